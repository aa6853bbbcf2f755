"""The one request router: (method, path, query, headers, body) -> (status, headers, body).

This module is the HTTP contract of SPEC §3 written down in code. The Tornado app hands it
requests from the network; the notebook widget hands it requests that arrive as widget messages.
Authentication, Host/Origin checks and security headers belong to the server, not here.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import __version__
from .core.errors import (
    DcmviewError,
    InvalidJson,
    InvalidQuery,
    InvalidWindow,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from .core.model import Window, WindowRequest

if TYPE_CHECKING:
    from .core.study import Study

MAX_BODY_BYTES = 1024 * 1024
_MAX_INDEX_DIGITS = 9
JSON_TYPE = "application/json; charset=utf-8"
# Placeholders in /api/files for the two lists that are kept encoded.
_SPLICE_FILES = "\u0000dcmview-files\u0000"
_SPLICE_DISCOVERY = "\u0000dcmview-discovery\u0000"
_SPLICE_FILES_JSON = json.dumps(_SPLICE_FILES).encode()
_SPLICE_DISCOVERY_JSON = json.dumps(_SPLICE_DISCOVERY).encode()


@dataclass
class ApiRequest:
    method: str
    path: str  # relative to the server root, e.g. "api/file/0/frame/3" (a leading "/" is allowed)
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)  # keys in lower case
    body: bytes = b""


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class ServerInfo:
    """Facts about the front end that ``/api/files`` reports (set by the server)."""

    tunnelled: bool = False
    tunnel_host: str | None = None


Handler = Callable[[ApiRequest, tuple[int, ...]], ApiResponse]


class Api:
    """Routes API requests to a :class:`Study`."""

    def __init__(self, study: Study, server: ServerInfo | None = None) -> None:
        self.study = study
        self.server = server or ServerInfo()
        # (method, pattern, handler, blocking): blocking routes decode or encode pixels and must
        # run off the event loop.
        self._routes: list[tuple[str, re.Pattern[str], Handler, bool]] = [
            ("GET", _p(r"api/health"), self._health, False),
            ("GET", _p(r"api/files"), self._files, False),
            ("GET", _p(r"api/series"), self._series, False),
            ("GET", _p(r"api/file/([^/]*)/info"), self._info, False),
            ("GET", _p(r"api/file/([^/]*)/frame/([^/]*)"), self._frame, True),
            ("GET", _p(r"api/file/([^/]*)/frame/([^/]*)/raw"), self._raw, True),
            ("GET", _p(r"api/file/([^/]*)/tags"), self._tags, True),
            ("GET", _p(r"api/file/([^/]*)/annotations"), self._get_annotations, False),
            ("PUT", _p(r"api/file/([^/]*)/annotations"), self._put_annotations, False),
            ("GET", _p(r"api/annotations/export\.csv"), self._export, False),
        ]

    def is_blocking(self, method: str, path: str) -> bool:
        """True when the request may decode pixels or read files (run it in a worker)."""
        match = self._match(method, path)
        return bool(match and match[2])

    def cached(self, request: ApiRequest) -> ApiResponse | None:
        """The answer to a frame request when it is already in a cache, else None.

        Lets the server answer cache hits on its event loop, without a trip through the decode
        workers; anything unusual (a bad parameter, an error) is left to :meth:`handle`.
        """
        match = self._match(request.method, request.path)
        if match is None or match[0] not in (self._frame, self._raw):
            return None
        try:
            index, frame = _parse_params(match[1])
            if match[0] == self._raw:
                entry = self.study.cached_raw(index, frame)
                kind = "application/octet-stream"
            else:
                entry = self.study.cached_display(index, frame, parse_window_query(request.query))
                kind = "image/png"
        except DcmviewError:
            return None
        if entry is None:
            return None
        body, headers = entry
        return ApiResponse(200, {"Content-Type": kind, "X-Cache": "HIT", **headers}, body)

    def handle(self, request: ApiRequest) -> ApiResponse:
        """Answer one request; errors become ``{"code", "error"}`` JSON, never a traceback."""
        try:
            match = self._match(request.method, request.path)
            if match is None:
                if any(p.fullmatch(_strip(request.path)) for _, p, _, _ in self._routes):
                    raise MethodNotAllowed(f"{request.method} is not allowed here")
                raise NotFound(f"no API endpoint at {_strip(request.path)!r}")
            handler, params, _ = match
            return handler(request, _parse_params(params))
        except DcmviewError as exc:
            return error_response(exc)

    def _match(self, method: str, path: str) -> tuple[Handler, tuple[str, ...], bool] | None:
        path = _strip(path)
        for verb, pattern, handler, blocking in self._routes:
            m = pattern.fullmatch(path)
            if m and verb == method.upper():
                return handler, m.groups(), blocking
        return None

    # -- handlers -------------------------------------------------------------------------
    def _health(self, request: ApiRequest, params: tuple[int, ...]) -> ApiResponse:
        s = self.study
        return json_response(
            {
                "status": "ok",
                "file_count": len(s.files),
                "server_start_ms": s.server_start_ms,
                "scan_complete": s.scan_complete,
                "version": __version__,
            }
        )

    def _files(self, request: ApiRequest, params: tuple[int, ...]) -> ApiResponse:
        s = self.study
        listing, found = s.listing_json
        # The two long lists are spliced in as already-encoded JSON (see Study.scan).
        response = json_response(
            {
                "files": _SPLICE_FILES,
                "discovery": _SPLICE_DISCOVERY,
                "scanned": s.scanned,
                "skipped": s.skipped,
                "filtered": s.filtered,
                "tunnelled": self.server.tunnelled,
                "tunnel_host": self.server.tunnel_host,
                "server_start_ms": s.server_start_ms,
                "scan_complete": s.scan_complete,
                "scan_error": s.scan_error,
            }
        )
        # Both placeholders come before any other value: the first match of each is ours.
        head, rest = response.body.split(_SPLICE_FILES_JSON, 1)
        middle, tail = rest.split(_SPLICE_DISCOVERY_JSON, 1)
        response.body = b"".join((head, listing.encode(), middle, found.encode(), tail))
        return response

    def _series(self, request: ApiRequest, params: tuple[int, ...]) -> ApiResponse:
        complete = self.study.scan_complete  # read first: the list is published with it
        body = f'{{"series":{self.study.series_json},"scan_complete":{json.dumps(complete)}}}'
        return ApiResponse(200, {"Content-Type": JSON_TYPE}, body.encode())

    def _info(self, request: ApiRequest, params: tuple[int, ...]) -> ApiResponse:
        return json_response(self.study.info(params[0]))

    def _frame(self, request: ApiRequest, params: tuple[int, ...]) -> ApiResponse:
        window = parse_window_query(request.query)
        body, headers, hit = self.study.display(params[0], params[1], window)
        return ApiResponse(
            200,
            {"Content-Type": "image/png", "X-Cache": "HIT" if hit else "MISS", **headers},
            body,
        )

    def _raw(self, request: ApiRequest, params: tuple[int, ...]) -> ApiResponse:
        body, headers, hit = self.study.raw(params[0], params[1])
        return ApiResponse(
            200,
            {
                "Content-Type": "application/octet-stream",
                "X-Cache": "HIT" if hit else "MISS",
                **headers,
            },
            body,
        )

    def _tags(self, request: ApiRequest, params: tuple[int, ...]) -> ApiResponse:
        return json_response(self.study.tags(params[0]))

    def _get_annotations(self, request: ApiRequest, params: tuple[int, ...]) -> ApiResponse:
        self.study.record(params[0])
        payload, etag = self.study.annotation_store().get(params[0])
        return json_response(payload, headers={"ETag": etag})

    def _put_annotations(self, request: ApiRequest, params: tuple[int, ...]) -> ApiResponse:
        self.study.record(params[0])
        body = parse_json_body(request)
        store = self.study.annotation_store()
        payload, etag = store.put(params[0], body, request.headers.get("if-match"))
        return json_response(payload, headers={"ETag": etag})

    def _export(self, request: ApiRequest, params: tuple[int, ...]) -> ApiResponse:
        text = self.study.annotation_store().export_csv()
        return ApiResponse(
            200,
            {
                "Content-Type": "text/csv; charset=utf-8",
                "Content-Disposition": 'attachment; filename="dcmview-annotations.csv"',
            },
            text.encode("utf-8"),
        )


def parse_window_query(query: Mapping[str, str]) -> WindowRequest:
    """``wc``/``ww`` (both or neither, finite, ``ww > 0``) and ``mode``; 400 names the parameter."""
    mode = query.get("mode", "default") or "default"
    if mode not in ("default", "full_dynamic"):
        raise InvalidQuery(f"mode must be 'default' or 'full_dynamic', not {mode!r}")
    wc, ww = query.get("wc"), query.get("ww")
    if wc is None and ww is None:
        return WindowRequest(mode=mode)
    if wc is None or ww is None:
        missing = "wc" if wc is None else "ww"
        raise InvalidWindow(f"{missing} is missing: give both wc and ww, or neither")
    center = _finite(wc, "wc")
    width = _finite(ww, "ww")
    if width <= 0:
        raise InvalidWindow(f"ww must be greater than 0, not {ww!r}")
    return WindowRequest(mode=mode, window=Window(center=center, width=width))


def parse_json_body(request: ApiRequest) -> Any:
    """The JSON body of a state-changing request: 415 unless JSON, 413 when too big, 400 if bad."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise UnsupportedMediaType(
            f"send the body as application/json (got {ctype or 'no content type'!r})"
        )
    if len(request.body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is over the {MAX_BODY_BYTES}-byte limit")
    try:
        return json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidJson(f"the body is not valid JSON: {exc}") from exc
    except RecursionError:
        raise InvalidJson("the body is not valid JSON: it is nested too deeply") from None


def json_response(
    payload: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> ApiResponse:
    body = json.dumps(payload, separators=(",", ":"), allow_nan=False).encode("utf-8")
    return ApiResponse(status, {"Content-Type": JSON_TYPE, **(headers or {})}, body)


def error_response(exc: DcmviewError) -> ApiResponse:
    return json_response({"code": exc.code, "error": exc.message}, status=exc.status)


def _p(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _strip(path: str) -> str:
    return path.lstrip("/")


def _parse_params(params: tuple[str, ...]) -> tuple[int, ...]:
    names = ("file index", "frame index")
    out = []
    for name, text in zip(names, params, strict=False):
        if not text.isdigit() or not text.isascii() or len(text) > _MAX_INDEX_DIGITS:
            raise InvalidQuery(f"{name} must be a non-negative integer, not {text[:20]!r}")
        out.append(int(text))
    return tuple(out)


def _finite(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidWindow(f"{name} must be a number, not {text[:20]!r}") from None
    if not math.isfinite(value):
        raise InvalidWindow(f"{name} must be a finite number, not {text[:20]!r}")
    return value
