"""The one request router: (method, path, query, headers, body) -> (status, headers, body).

This module is the HTTP contract of SPEC §3 written down in code. The Tornado app hands it
requests from the network; the notebook widget hands it requests that arrive as widget messages.
A request is matched once (:meth:`Api.route`), then answered (:meth:`Api.answer`); the core's
typed answers become HTTP headers here and nowhere else. Authentication, Host/Origin checks and
security headers belong to the server, not here.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import __version__
from .core.embed_csv import csv_bytes
from .core.errors import (
    DcmviewError,
    InvalidAnnotation,
    InvalidJson,
    InvalidQuery,
    InvalidWindow,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from .core.model import AppliedWindow, FrameDescription, Window, WindowRequest
from .core.packed import Packed

if TYPE_CHECKING:
    from .core.annotations import AnnotationStore
    from .core.session import Session

MAX_BODY_BYTES = 1024 * 1024
# A display PNG may be asked for at 1/2^reduce of each side (1/256 at most).
MAX_REDUCE = 8
_MAX_INDEX_DIGITS = 9
JSON_TYPE = "application/json; charset=utf-8"


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
    # Called by the transport once the whole body reached the user (an export counts then).
    delivered: Callable[[], None] | None = None

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class ServerInfo:
    """Facts about the front end that ``/api/files`` reports (set by the server)."""

    tunnelled: bool = False
    tunnel_host: str | None = None


Handler = Callable[[ApiRequest, tuple[int, ...]], ApiResponse]
_RAW_TYPE = "application/octet-stream"
_PNG_TYPE = "image/png"


@dataclass(frozen=True)
class Route:
    """A matched request: its handler, its path parameters (file and frame indices, checked),
    or the error to answer when the path names no endpoint or has a bad parameter."""

    handler: Handler | None
    params: tuple[int, ...] = ()
    # Decodes or encodes pixels or reads files: run it off the event loop.
    blocking: bool = False
    # "raw" or "png" for frame GETs (what a cache may already hold).
    frame: str | None = None
    error: DcmviewError | None = None


class Api:
    """Routes API requests to a :class:`~dcmview.core.session.Session`."""

    def __init__(self, session: Session, server: ServerInfo | None = None) -> None:
        self.session = session
        self.server = server or ServerInfo()
        # (method, pattern, handler, blocking, frame kind)
        self._routes: list[tuple[str, re.Pattern[str], Handler, bool, str | None]] = [
            ("GET", _p(r"api/health"), self._health, False, None),
            ("GET", _p(r"api/files"), self._files, False, None),
            ("GET", _p(r"api/series"), self._series, False, None),
            ("GET", _p(r"api/file/([^/]*)/info"), self._info, False, None),
            ("GET", _p(r"api/file/([^/]*)/frame/([^/]*)"), self._frame, True, "png"),
            ("GET", _p(r"api/file/([^/]*)/frame/([^/]*)/raw"), self._raw, True, "raw"),
            ("GET", _p(r"api/file/([^/]*)/shutter"), self._shutter, True, None),
            ("GET", _p(r"api/file/([^/]*)/tags"), self._tags, True, None),
            ("GET", _p(r"api/file/([^/]*)/annotations"), self._get_annotations, False, None),
            ("PUT", _p(r"api/file/([^/]*)/annotations"), self._put_annotations, True, None),
            ("GET", _p(r"api/annotations/export\.csv"), self._export, False, None),
            ("GET", _p(r"api/file/([^/]*)/redactions"), self._get_redactions, False, None),
            ("PUT", _p(r"api/file/([^/]*)/redactions"), self._put_redactions, True, None),
            ("PUT", _p(r"api/file/([^/]*)/redactions/series"), self._copy_redactions, True, None),
            ("GET", _p(r"api/redactions/export\.csv"), self._export_redactions, False, None),
        ]

    def route(self, method: str, path: str) -> Route:
        """Match ``method`` and ``path`` (relative to the server root) once."""
        path = _strip(path)
        method = method.upper()
        allowed_elsewhere = False
        for verb, pattern, handler, blocking, frame in self._routes:
            m = pattern.fullmatch(path)
            if m is None:
                continue
            if verb != method:
                allowed_elsewhere = True
                continue
            try:
                params = _parse_params(m.groups())
            except DcmviewError as exc:
                return Route(None, error=exc)
            return Route(handler, params, blocking, frame)
        if allowed_elsewhere:
            return Route(None, error=MethodNotAllowed(f"{method} is not allowed here"))
        return Route(None, error=NotFound(f"no API endpoint at {path!r}"))

    def handle(self, request: ApiRequest) -> ApiResponse:
        """Match and answer one request (the widget's door; the server routes first itself)."""
        return self.answer(self.route(request.method, request.path), request)

    def answer(self, route: Route, request: ApiRequest) -> ApiResponse:
        """Answer a matched request; errors become ``{"code", "error"}`` JSON, never a traceback."""
        if route.handler is None:
            assert route.error is not None
            return error_response(route.error)
        try:
            return route.handler(request, route.params)
        except DcmviewError as exc:
            return error_response(exc)

    def cached(self, route: Route, query: Mapping[str, str]) -> ApiResponse | None:
        """The answer to a frame GET when a cache already holds it, else None.

        Cheap enough for the event loop: anything unusual (a bad parameter) is left to
        :meth:`answer`.
        """
        if route.frame is None:
            return None
        index, frame = route.params
        try:
            if route.frame == "raw":
                raw = self.session.cached_raw(index, frame)
                return None if raw is None else _raw_response(raw[0], raw[1], hit=True)
            window = parse_window_query(query)
        except DcmviewError:
            return None
        png = self.session.cached_display(index, frame, window)
        return None if png is None else _png_response(png[0], png[1], hit=True)

    # -- handlers -------------------------------------------------------------------------
    def _health(self, request: ApiRequest, params: tuple[int, ...]) -> ApiResponse:
        s = self.session
        return json_response(
            {
                "status": "ok",
                "file_count": len(s.files),
                "server_start_ms": s.server_start_ms,
                "scan_complete": s.scan_complete,
                "version": __version__,
                "masked": s.masker is not None,
            }
        )

    def _files(self, request: ApiRequest, params: tuple[int, ...]) -> ApiResponse:
        s = self.session
        listing = s.listing  # read first: it is published with the counts below
        end = json_response(
            {
                "scanned": s.scanned,
                "skipped": s.skipped,
                "filtered": s.filtered,
                "tunnelled": self.server.tunnelled,
                "tunnel_host": self.server.tunnel_host,
                "server_start_ms": s.server_start_ms,
                "scan_complete": s.scan_complete,
                "scan_error": s.scan_error,
            }
        ).body[1:]
        return _listed(listing.files, end, request)

    def _series(self, request: ApiRequest, params: tuple[int, ...]) -> ApiResponse:
        complete = self.session.scan_complete  # read first: the list is published with it
        listing = self.session.listing
        end = f'"scan_complete":{json.dumps(complete)}}}'.encode()
        return _listed(listing.series, end, request)

    def _info(self, request: ApiRequest, params: tuple[int, ...]) -> ApiResponse:
        return json_response(self.session.info(params[0]))

    def _frame(self, request: ApiRequest, params: tuple[int, ...]) -> ApiResponse:
        window = parse_window_query(request.query)
        (body, applied), hit = self.session.display(params[0], params[1], window)
        return _png_response(body, applied, hit)

    def _raw(self, request: ApiRequest, params: tuple[int, ...]) -> ApiResponse:
        (body, description), hit = self.session.raw(params[0], params[1])
        return _raw_response(body, description, hit)

    def _shutter(self, request: ApiRequest, params: tuple[int, ...]) -> ApiResponse:
        (body, applied), hit = self.session.shutter(params[0])
        return _png_response(body, applied, hit)

    def _tags(self, request: ApiRequest, params: tuple[int, ...]) -> ApiResponse:
        return json_response(self.session.tags(params[0]))

    def _get_annotations(self, request: ApiRequest, params: tuple[int, ...]) -> ApiResponse:
        self.session.record(params[0])
        return _get_boxes(self.session.annotation_store(), params[0])

    def _put_annotations(self, request: ApiRequest, params: tuple[int, ...]) -> ApiResponse:
        self.session.record(params[0])
        return _put_boxes(self.session.annotation_store(), params[0], request)

    def _export(self, request: ApiRequest, params: tuple[int, ...]) -> ApiResponse:
        return _export_csv(self.session.annotation_store(), "dcmview-annotations.csv")

    def _get_redactions(self, request: ApiRequest, params: tuple[int, ...]) -> ApiResponse:
        self.session.record(params[0])
        return _get_boxes(self.session.redaction_store(), params[0])

    def _put_redactions(self, request: ApiRequest, params: tuple[int, ...]) -> ApiResponse:
        self.session.record(params[0])
        return _put_boxes(self.session.redaction_store(), params[0], request)

    def _copy_redactions(self, request: ApiRequest, params: tuple[int, ...]) -> ApiResponse:
        # The body says nothing (the boxes are file i's): empty or {}, sent as JSON like any
        # state-changing request.
        if not request.body.strip():
            require_json(request)
        elif parse_json_body(request) != {}:
            raise InvalidAnnotation("send an empty body or {}: the boxes copied are file i's")
        return json_response({"file_indices": self.session.copy_redactions_to_stack(params[0])})

    def _export_redactions(self, request: ApiRequest, params: tuple[int, ...]) -> ApiResponse:
        return _export_csv(self.session.redaction_store(), "dcmview-redactions.csv")


def _get_boxes(store: AnnotationStore, index: int) -> ApiResponse:
    payload, etag = store.get(index)
    return json_response(payload, headers={"ETag": etag})


def _put_boxes(store: AnnotationStore, index: int, request: ApiRequest) -> ApiResponse:
    body = parse_json_body(request)
    payload, etag = store.put(index, body, request.headers.get("if-match"))
    return json_response(payload, headers={"ETag": etag})


def _export_csv(store: AnnotationStore, filename: str) -> ApiResponse:
    text, version = store.snapshot()
    return ApiResponse(
        200,
        {
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{filename}"',
        },
        csv_bytes(text),
        delivered=lambda: store.mark_exported(version),
    )


def parse_window_query(query: Mapping[str, str]) -> WindowRequest:
    """``wc``/``ww`` (both or neither, finite, ``ww > 0``), ``mode``, ``shutter`` (``on`` or
    ``off``) and ``reduce`` (0 to :data:`MAX_REDUCE`); 400 names the parameter."""
    mode = query.get("mode", "default") or "default"
    if mode not in ("default", "full_dynamic"):
        raise InvalidQuery(f"mode must be 'default' or 'full_dynamic', not {mode!r}")
    shutter = query.get("shutter", "on") or "on"
    if shutter not in ("on", "off"):
        raise InvalidQuery(f"shutter must be 'on' or 'off', not {shutter[:20]!r}")
    reduce = query.get("reduce", "0") or "0"
    if not (reduce.isascii() and reduce.isdigit() and int(reduce) <= MAX_REDUCE):
        raise InvalidQuery(
            f"reduce must be a whole number from 0 to {MAX_REDUCE}, not {reduce[:20]!r}"
        )
    on, levels = shutter == "on", int(reduce)
    wc, ww = query.get("wc"), query.get("ww")
    if wc is None and ww is None:
        return WindowRequest(mode=mode, shutter=on, reduce=levels)
    if wc is None or ww is None:
        missing = "wc" if wc is None else "ww"
        raise InvalidWindow(f"{missing} is missing: give both wc and ww, or neither")
    center = _finite(wc, "wc")
    width = _finite(ww, "ww")
    if width <= 0:
        raise InvalidWindow(f"ww must be greater than 0, not {ww!r}")
    return WindowRequest(
        mode=mode, window=Window(center=center, width=width), shutter=on, reduce=levels
    )


def require_json(request: ApiRequest) -> None:
    """415 unless the request says its body is JSON (every state-changing request must)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise UnsupportedMediaType(
            f"send the body as application/json (got {ctype or 'no content type'!r})"
        )


def parse_json_body(request: ApiRequest) -> Any:
    """The JSON body of a state-changing request: 415 unless JSON, 413 when too big, 400 if bad."""
    require_json(request)
    if len(request.body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is over the {MAX_BODY_BYTES}-byte limit")
    try:
        return json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidJson(f"the body is not valid JSON: {exc}") from exc
    except RecursionError:
        raise InvalidJson("the body is not valid JSON: it is nested too deeply") from None


def _listed(start: Packed, end: bytes, request: ApiRequest) -> ApiResponse:
    """A published list's answer: its deflated start and this answer's ``end``, gzipped for a
    client that takes gzip (the list is not compressed again), else plain."""
    if accepts_gzip(request.headers.get("accept-encoding", "")):
        headers = {"Content-Type": JSON_TYPE, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
        return ApiResponse(200, headers, start.gzip(end))
    return ApiResponse(200, {"Content-Type": JSON_TYPE}, start.text(end))


def accepts_gzip(accept_encoding: str) -> bool:
    """True when ``Accept-Encoding`` allows gzip (``gzip;q=0`` refuses it)."""
    for item in accept_encoding.lower().split(","):
        name, _, params = item.strip().partition(";")
        if name.strip() in ("gzip", "*"):
            q = params.strip()
            return not (q.startswith("q=") and q[2:].strip() in ("0", "0.0", "0.00", "0.000"))
    return False


def json_response(
    payload: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> ApiResponse:
    body = json.dumps(payload, separators=(",", ":"), allow_nan=False).encode("utf-8")
    return ApiResponse(status, {"Content-Type": JSON_TYPE, **(headers or {})}, body)


def error_response(exc: DcmviewError) -> ApiResponse:
    return json_response({"code": exc.code, "error": exc.message}, status=exc.status)


def _raw_response(body: bytes, description: FrameDescription, hit: bool) -> ApiResponse:
    headers = {"Content-Type": _RAW_TYPE, "X-Cache": "HIT" if hit else "MISS"}
    headers.update(raw_headers(description))
    return ApiResponse(200, headers, body)


def _png_response(body: bytes, applied: AppliedWindow, hit: bool) -> ApiResponse:
    headers = {"Content-Type": _PNG_TYPE, "X-Cache": "HIT" if hit else "MISS"}
    headers.update(window_headers(applied))
    return ApiResponse(200, headers, body)


@functools.lru_cache(maxsize=1024)
def raw_headers(d: FrameDescription) -> Mapping[str, str]:
    """The ``X-Frame-*`` headers of a ``/raw`` answer (SPEC §3; the original's names).

    Cached: frames of one file share their description, and a cache hit must stay cheap.
    """
    headers = {
        "X-Frame-Rows": str(d.rows),
        "X-Frame-Columns": str(d.columns),
        "X-Frame-Bits-Allocated": str(d.bits_allocated),
        "X-Frame-Bits-Stored": str(d.bits_stored),
        "X-Frame-Pixel-Representation": "1" if d.signed else "0",
        "X-Frame-Samples-Per-Pixel": str(d.samples_per_pixel),
        "X-Frame-Photometric-Interpretation": d.photometric,
        "X-Frame-Rescale-Slope": _num(d.rescale_slope),
        "X-Frame-Rescale-Intercept": _num(d.rescale_intercept),
    }
    if d.default_window is not None:
        headers["X-Frame-Default-Wc"] = _num(d.default_window.center)
        headers["X-Frame-Default-Ww"] = _num(d.default_window.width)
    return headers


@functools.lru_cache(maxsize=1024)
def window_headers(applied: AppliedWindow) -> Mapping[str, str]:
    """The window headers of a display PNG: which window was applied, and its values."""
    headers: dict[str, str] = {}
    if applied.applied is not None:
        headers["X-Frame-Window-Applied"] = applied.applied
    if applied.window is not None:
        headers["X-Frame-Window-Center"] = _num(applied.window.center)
        headers["X-Frame-Window-Width"] = _num(applied.window.width)
    if applied.reduce:
        headers["X-Frame-Reduce"] = str(applied.reduce)
    return headers


def _num(value: float) -> str:
    """A header number: integral values without a trailing .0 (e.g. "40", "-600", "0.5")."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


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
