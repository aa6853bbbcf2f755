"""Tornado plumbing: hand API requests to the router, serve the viewer page and its assets.

Everything about DICOM lives in the core and the router. This module keeps the door: every
handler asks the one guard of :mod:`.guard` (the Host in ``prepare``; the API its token too, once
the body is in) and takes its headers from the one table there; decoding runs off the event loop.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, cast

import tornado.web
from tornado.http1connection import HTTP1Connection
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream, StreamClosedError

from ..api import (
    MAX_BODY_BYTES,
    Api,
    ApiRequest,
    ApiResponse,
    Route,
    accepts_gzip,
    error_response,
)
from ..core.errors import DcmviewError, PayloadTooLarge
from .guard import HEADERS, Forbidden, Guard, same_origin

STATIC_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "static")
# API bodies are streamed (ApiHandler): one over the router's limit (MAX_BODY_BYTES) is read and
# dropped up to this size, then answered 413 after it; a larger one is answered 413 at once and
# the connection closed.
MAX_HTTP_BODY = 16 * 1024 * 1024
# Every other path takes no body worth keeping. Tornado buffers a body before the handler runs:
# with the API's bound here, 40 stalled uploads to "/" held 600 MB.
MAX_OTHER_BODY = 64 * 1024
# A body must keep arriving; an idle keep-alive connection is let go (browsers reconnect).
BODY_TIMEOUT = 30.0
IDLE_CONNECTION_TIMEOUT = 120.0
# Response bodies larger than this go out in pieces of this size (see _stream_response).
_PIECE = 1024 * 1024
# Bodies at least this large are written without Tornado's copy of them (see _stream_response).
_DIRECT = 64 * 1024
# What Tornado writes itself to a malformed request (no handler runs), and what we send instead.
_BARE_400 = b"HTTP/1.1 400 Bad Request\r\n\r\n"
_FULL_400 = (
    b"HTTP/1.1 400 Bad Request\r\n"
    + b"".join(f"{k}: {v}\r\n".encode() for k, v in HEADERS["data"].items())
    + b"Content-Length: 0\r\nConnection: close\r\n\r\n"
)
_JSON = "application/json; charset=utf-8"
# JSON answers at least this large go gzipped to clients that accept it (/api/files of 500 files:
# 459 KB -> ~30 KB); above _GZIP_OFF_LOOP the compression runs off the event loop.
_GZIP_MIN = 1024
_GZIP_OFF_LOOP = 64 * 1024


class GzipCache:
    """Gzip of JSON answers, remembering the last large one: ``/api/files`` answers the same
    bytes to every poll once the scan is complete (10,000 files: 8 MB, ~100 ms to compress)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: tuple[bytes, bytes] = (b"", b"")

    def compress(self, body: bytes) -> bytes:
        with self._lock:
            plain, packed = self._last
        if body == plain:
            return packed
        packed = _gzip(body)
        if len(body) >= _GZIP_OFF_LOOP:
            with self._lock:
                self._last = (body, packed)
        return packed


def _gzip(body: bytes) -> bytes:
    try:
        from isal import igzip  # ISA-L: several times faster than zlib at the same ratio

        return igzip.compress(body, compresslevel=1)
    except ImportError:  # no wheel for this platform
        import gzip

        return gzip.compress(body, compresslevel=1)


class Routed:
    """Routes matched in front of the Application (cached.FastFrames), handed to the handler
    that answers the same request, so that a request is matched once. Keyed by the request's
    connection object, which Tornado makes anew for every request (and which is weakly held)."""

    def __init__(self) -> None:
        self._routes: weakref.WeakKeyDictionary[object, Route] = weakref.WeakKeyDictionary()

    def hand(self, connection: object, route: Route | None) -> None:
        if route is None:
            self._routes.pop(connection, None)
        else:
            self._routes[connection] = route

    def take(self, connection: object) -> Route | None:
        return self._routes.pop(connection, None)


@dataclass
class Activity:
    """When the last API or page request arrived (for ``--timeout``)."""

    last: float = field(default_factory=time.monotonic)

    def touch(self) -> None:
        self.last = time.monotonic()


POLL_HEADER = "X-Dcmview-Poll"


class _Base(tornado.web.RequestHandler):
    guard: Guard
    activity: Activity
    kind = "data"  # the row of the header table (guard.HEADERS) this handler's answers take

    def initialize(self, guard: Guard, activity: Activity, **_: Any) -> None:
        self.guard = guard
        self.activity = activity

    def set_default_headers(self) -> None:
        self.clear_header("Server")
        for name, value in HEADERS[self.kind].items():
            self.set_header(name, value)

    def compute_etag(self) -> str | None:
        # Tornado would hash every body (SHA1 of multi-megabyte frames); our data is no-store.
        return None

    def prepare(self) -> None:
        # The page's periodic look for new layers is no sign of a person: --timeout still ends
        # a server whose tab was left open.
        if self.request.headers.get(POLL_HEADER) != "1":
            self.activity.touch()
        refusal = self.guard.refusal(self.request.host or "", data=False)
        if refusal is not None:
            self._write_response(error_response(refusal))

    def _write_response(self, response: ApiResponse) -> None:
        self._set_response_headers(response)
        self.finish(response.body or None)

    def _set_response_headers(self, response: ApiResponse) -> None:
        self.set_status(response.status)
        for name, value in response.headers.items():
            self.set_header(name, value)
        if response.status >= 400:  # an error on a page path is data, never cached
            self.set_header("Cache-Control", HEADERS["data"]["Cache-Control"])

    async def _stream_response(self, response: ApiResponse) -> bool:
        """Send a large body in pieces, each written before the next is handed over; True
        when the whole answer was handed to the connection (the client did not leave).

        Given whole, Tornado copies headers and body into one buffer, and when the client
        hangs up mid-download that buffer stays in a reference cycle until the garbage
        collector runs: a burst of cancelled frame downloads held hundreds of MB. Bodies of
        _DIRECT bytes or more go to the connection as views of themselves after the headers:
        no copy at all (a 512 KB frame's copy was ~10 % of a cold /raw answer).
        """
        body = response.body
        stream = getattr(self.request.connection, "stream", None)
        try:
            self._set_response_headers(response)
            if len(body) < _DIRECT or self.request.method == "HEAD":
                # An empty chunk still counts as a body for Tornado, which refuses one on a 204.
                await self.finish(body or None)
            else:
                self.set_header("Content-Length", str(len(body)))
                await self.flush()  # the headers alone
                connection = self.request.connection
                assert connection is not None
                view = memoryview(body)
                for start in range(0, len(body), _PIECE):
                    # Tornado's streams take memoryviews (its annotation says bytes).
                    piece = cast(bytes, view[start : start + _PIECE])
                    await connection.write(piece)
                await self.finish()
        except StreamClosedError:
            return False  # the client left: nobody to answer
        # Tornado reports a write cut short by a hang-up as done; the closed stream tells.
        return stream is None or not stream.closed()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        # Tornado's own errors (bad request, body too large...) in our JSON shape.
        code = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}.get(
            status_code, "error"
        )
        self.set_header("Content-Type", _JSON)
        self.set_header("Cache-Control", HEADERS["data"]["Cache-Control"])
        self.finish({"code": code, "error": self._reason or "error"})


@tornado.web.stream_request_body
class ApiHandler(_Base):
    """Every ``/api/...`` request: the door, then the router (in a worker when it decodes).

    The body is streamed in rather than buffered by Tornado, so that a body over the limit gets
    the JSON 413 with the security headers (not Tornado's bare 400) and is never kept in memory.
    """

    SUPPORTED_METHODS = ("GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "HEAD")

    def initialize(self, guard: Guard, activity: Activity, **kwargs: Any) -> None:
        super().initialize(guard, activity)
        self.api: Api = kwargs["api"]
        self.executor: ThreadPoolExecutor = kwargs["executor"]
        self.gzip: GzipCache = kwargs["gzip"]
        self.routed: Routed = kwargs["routed"]
        self._body = bytearray()
        self._body_size = 0

    def prepare(self) -> None:
        connection = self.request.connection
        if isinstance(connection, HTTP1Connection):
            # This handler bounds the body itself (data_received); left to the connection, a
            # large body would get a bare 400 written after our answer.
            connection.set_max_body_size(sys.maxsize)
        super().prepare()
        if self._finished:
            return
        declared = self.request.headers.get("Content-Length", "").strip()
        if declared.isdigit() and int(declared) > MAX_HTTP_BODY:
            self._refuse_body()

    def data_received(self, chunk: bytes) -> None:
        if self._finished:
            return
        self._body_size += len(chunk)
        if self._body_size > MAX_HTTP_BODY:
            self._refuse_body()
        elif self._body_size > MAX_BODY_BYTES:
            self._body.clear()  # counted, so that the answer is 413, but not kept
        else:
            self._body += chunk

    def _refuse_body(self) -> None:
        # Answered before the body ends: Tornado then closes the connection instead of reading on.
        self._body.clear()
        self._write_response(error_response(_too_large()))

    async def _dispatch(self, path: str) -> None:
        if self._finished:
            return
        # The token is checked once the body is in (read and dropped when too large), so that
        # a client without one gets its 401 rather than a connection closed under its upload.
        headers = self.request.headers
        refusal = self.guard.refusal(
            self.request.host or "",
            headers.get("Authorization", ""),
            headers.get("X-Dcmview-Token", ""),
            data=path != "health",
        )
        method = self.request.method or "GET"
        if (
            refusal is None
            and method not in ("GET", "HEAD")
            and not same_origin(
                self.request.host or "", headers.get("Origin"), headers.get("Sec-Fetch-Site")
            )
        ):
            refusal = Forbidden("cross-origin requests may not change anything")
        if refusal is None and self._body_size > MAX_BODY_BYTES:
            refusal = _too_large()
        if refusal is not None:
            self._write_response(error_response(refusal))
            return
        request = ApiRequest(
            method="GET" if method == "HEAD" else method,
            path="api/" + path,
            query={k: self.get_query_argument(k) for k in self.request.query_arguments},
            headers={k.lower(): v for k, v in headers.items()},
            body=bytes(self._body),
        )
        # Matched once: plain frame GETs were matched in front (cached.py), which answered the
        # cache hits and hands the misses' routes over.
        route = self.routed.take(self.request.connection) or self.api.route(
            request.method, request.path
        )
        if route.blocking:
            response = await IOLoop.current().run_in_executor(
                self.executor, self.api.answer, route, request
            )
        else:
            response = self.api.answer(route, request)
        if (
            len(response.body) >= _GZIP_MIN
            and response.headers.get("Content-Type") == _JSON
            and "Content-Encoding" not in response.headers
            and accepts_gzip(request.headers.get("accept-encoding", ""))
        ):
            response = await self._gzipped(response)
        if method == "HEAD":
            response = ApiResponse(response.status, response.headers, b"")
        if await self._stream_response(response) and response.delivered and self._user_fetch():
            response.delivered()

    def _user_fetch(self) -> bool:
        """The request came from our page, the address bar or a script, not another site.

        A page elsewhere can make the browser fetch our URLs (an <img>, a link) without ever
        seeing the answer; such a fetch delivers nothing to the user. Browsers say where a
        request came from in Sec-Fetch-Site; clients that do not send it are scripts.
        """
        site = self.request.headers.get("Sec-Fetch-Site")
        return site is None or site in ("same-origin", "none")

    async def _gzipped(self, response: ApiResponse) -> ApiResponse:
        if len(response.body) < _GZIP_OFF_LOOP:
            body = self.gzip.compress(response.body)
        else:
            body = await IOLoop.current().run_in_executor(
                self.executor, self.gzip.compress, response.body
            )
        headers = {**response.headers, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
        return ApiResponse(response.status, headers, body)

    async def get(self, path: str) -> None:
        await self._dispatch(path)

    async def head(self, path: str) -> None:
        await self._dispatch(path)

    async def put(self, path: str) -> None:
        await self._dispatch(path)

    async def post(self, path: str) -> None:
        await self._dispatch(path)

    async def delete(self, path: str) -> None:
        await self._dispatch(path)

    async def patch(self, path: str) -> None:
        await self._dispatch(path)

    async def options(self, path: str) -> None:
        # No CORS, ever: a preflight gets a plain 405 and no Access-Control-* header.
        await self._dispatch(path)


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge(f"the body is over the {MAX_BODY_BYTES}-byte limit")


class PageHandler(_Base):
    """The viewer page at ``/`` (no data in it; the token travels in the URL fragment)."""

    kind = "page"

    def get(self) -> None:
        if self._finished:
            return
        self.set_header("Content-Type", "text/html; charset=utf-8")
        with open(os.path.join(STATIC_DIR, "index.html"), "rb") as fp:
            self.finish(fp.read())


class AssetHandler(tornado.web.StaticFileHandler):
    """The viewer bundle under ``/assets/``; StaticFileHandler refuses paths outside the folder.

    ``guard`` and ``activity`` are class attributes of a subclass made per app (see
    :func:`make_app`): StaticFileHandler's ``initialize`` signature differs between Tornado
    versions, so it is not overridden.
    """

    guard: Guard
    activity: Activity
    kind = "asset"
    set_default_headers = _Base.set_default_headers

    def prepare(self) -> None:
        self.activity.touch()
        if self.guard.refusal(self.request.host or "", data=False) is not None:
            raise tornado.web.HTTPError(403)

    def decode_argument(self, value: bytes, name: str | None = None) -> str:
        # A path that is not UTF-8 names none of our assets: 404, like any other.
        try:
            return super().decode_argument(value, name)
        except tornado.web.HTTPError:
            raise tornado.web.HTTPError(404) from None

    async def get(self, path: str, include_body: bool = True) -> None:
        # NUL and backslashes never name one of our assets; refuse them before the file system.
        if "\x00" in path or "\\" in path or path.startswith("/"):
            raise tornado.web.HTTPError(404)
        try:
            await super().get(path, include_body)
        except tornado.web.HTTPError as exc:
            # Tornado answers 403 for paths outside the folder and for directories; a traversal
            # attempt learns no more than a missing file tells.
            if exc.status_code == 403:
                raise tornado.web.HTTPError(404) from None
            raise

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.set_header("Content-Type", _JSON)
        self.set_header("Cache-Control", HEADERS["data"]["Cache-Control"])
        self.finish({"code": "not_found" if status_code == 404 else "error", "error": self._reason})


class NotFoundHandler(_Base):
    def get(self, *args: Any) -> None:
        if not self._finished:
            self._write_response(error_response(_NotFoundPage("nothing here")))

    post = put = delete = patch = head = options = get


class _NotFoundPage(DcmviewError):
    code = "not_found"
    status = 404


def make_app(
    api: Api,
    guard: Guard,
    activity: Activity | None = None,
    *,
    executor: ThreadPoolExecutor | None = None,
    routed: Routed | None = None,
) -> tornado.web.Application:
    """The Tornado application serving ``api`` behind ``guard`` (``routed``: the routes its
    front, :class:`~.cached.FastFrames`, matched already)."""
    activity = activity or Activity()
    routed = routed or Routed()
    executor = executor or ThreadPoolExecutor(max_workers=4, thread_name_prefix="dcmview-decode")
    common = {"guard": guard, "activity": activity}
    assets = type("BoundAssetHandler", (AssetHandler,), common)
    return tornado.web.Application(
        [
            (r"/", PageHandler, common),
            (r"/index\.html", PageHandler, common),
            (r"/assets/(.*)", assets, {"path": STATIC_DIR}),
            (
                r"/api/(.*)",
                ApiHandler,
                {
                    "api": api,
                    "executor": executor,
                    "gzip": GzipCache(),
                    "routed": routed,
                    **common,
                },
            ),
        ],
        default_handler_class=NotFoundHandler,
        default_handler_args=common,
        compress_response=False,
        xsrf_cookies=False,
        serve_traceback=False,
        websocket_max_message_size=None,
    )


class Server(HTTPServer):
    """Tornado's HTTP server, with our headers on the one answer it writes itself: the bare
    ``400 Bad Request`` to a malformed request, for which no handler runs."""

    def handle_stream(self, stream: IOStream, address: tuple[Any, ...]) -> None:
        write = stream.write

        def write_with_headers(data: bytes | memoryview, *args: Any, **kwargs: Any) -> Any:
            if data == _BARE_400:
                data = _FULL_400
            return write(data, *args, **kwargs)

        stream.write = write_with_headers  # type: ignore[method-assign]
        super().handle_stream(stream, address)


def make_server(delegate: Any) -> Server:
    """The HTTP server in front of ``delegate`` (the app, or the cached-frame fast path)."""
    return Server(
        delegate,
        max_body_size=MAX_OTHER_BODY,
        body_timeout=BODY_TIMEOUT,
        idle_connection_timeout=IDLE_CONNECTION_TIMEOUT,
        xheaders=False,
    )
