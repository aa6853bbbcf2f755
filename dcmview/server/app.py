"""Tornado plumbing: hand API requests to the router, serve the viewer page and its assets.

Everything about DICOM lives in the core and the router; this module only guards the door
(token, Host, Origin), adds the security headers of SPEC §7 and keeps decoding off the event loop.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import tornado.web
from tornado.http1connection import HTTP1Connection
from tornado.ioloop import IOLoop
from tornado.iostream import StreamClosedError

from ..api import MAX_BODY_BYTES, Api, ApiRequest, ApiResponse, error_response
from ..core.errors import DcmviewError, PayloadTooLarge

STATIC_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "static")
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' blob: data:; connect-src 'self'; worker-src 'self' blob:; "
    "frame-ancestors 'self'; base-uri 'self'; object-src 'none'"
)
# On every answer (SPEC §7); the page adds its Content-Security-Policy.
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
# Tornado refuses bodies above this outright (a bare 400). API bodies are streamed instead: one
# over the router's limit (MAX_BODY_BYTES) is read and dropped up to this size, then answered 413
# after it; a larger one is answered 413 at once and the connection closed.
MAX_HTTP_BODY = 16 * 1024 * 1024
# Response bodies larger than this go out in pieces of this size (see _stream_response).
_PIECE = 1024 * 1024


class Unauthorized(DcmviewError):
    code = "unauthorized"
    status = 401


class Forbidden(DcmviewError):
    code = "forbidden"
    status = 403


@dataclass
class Guard:
    """Who may talk to the server: the token, and the Host allow-list used without one."""

    token: str | None
    check_host: bool = False
    allowed_hosts: set[str] = field(default_factory=set)

    def host_allowed(self, host_header: str) -> bool:
        if not self.check_host:
            return True
        host = _hostname(host_header)
        if host in self.allowed_hosts or host in LOOPBACK_NAMES:
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    def token_ok(self, authorization: str, token_header: str = "") -> bool:
        """``Authorization: Bearer <token>``, or the same token in ``X-Dcmview-Token``.

        The viewer page uses the second: behind JupyterHub's proxy an ``Authorization`` header
        is read by the hub itself, which would look up our token as a hub token on every request.
        """
        if self.token is None:
            return True
        value = token_header.strip()
        if not value:
            scheme, _, value = authorization.partition(" ")
            if scheme.lower() != "bearer":
                return False
        return hmac.compare_digest(value.strip().encode(), self.token.encode())


@dataclass
class Activity:
    """When the last API or page request arrived (for ``--timeout``)."""

    last: float = field(default_factory=time.monotonic)

    def touch(self) -> None:
        self.last = time.monotonic()


class _Base(tornado.web.RequestHandler):
    guard: Guard
    activity: Activity

    def initialize(self, guard: Guard, activity: Activity, **_: Any) -> None:
        self.guard = guard
        self.activity = activity

    def set_default_headers(self) -> None:
        self.clear_header("Server")
        for name, value in SECURITY_HEADERS.items():
            self.set_header(name, value)

    def compute_etag(self) -> str | None:
        # Tornado would hash every body (SHA1 of multi-megabyte frames); our data is no-store.
        return None

    def prepare(self) -> None:
        self.activity.touch()
        if not self.guard.host_allowed(self.request.host or ""):
            self._send_error(
                Forbidden("this Host is not allowed; use a loopback address or --allow-host")
            )
            return

    def _send_error(self, exc: DcmviewError) -> None:
        self._write_response(error_response(exc))

    def _write_response(self, response: ApiResponse) -> None:
        self._set_response_headers(response)
        self.finish(response.body)

    def _set_response_headers(self, response: ApiResponse) -> None:
        self.set_status(response.status)
        for name, value in response.headers.items():
            self.set_header(name, value)
        self.set_header("Cache-Control", "no-store")

    async def _stream_response(self, response: ApiResponse) -> None:
        """Send a large body in pieces, each written before the next is handed over.

        Given whole, Tornado copies headers and body into one buffer, and when the client
        hangs up mid-download that buffer stays in a reference cycle until the garbage
        collector runs: a burst of cancelled frame downloads held hundreds of MB.
        """
        body = response.body
        if len(body) <= _PIECE:
            self._write_response(response)
            return
        self._set_response_headers(response)
        self.set_header("Content-Length", str(len(body)))
        try:
            for start in range(0, len(body), _PIECE):
                self.write(body[start : start + _PIECE])
                await self.flush()
        except StreamClosedError:
            return  # the client left: nobody to answer
        self.finish()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        # Tornado's own errors (bad request line, body too large...) in our JSON shape.
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        code = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}.get(
            status_code, "error"
        )
        reason = self._reason or "error"
        self.finish({"code": code, "error": reason})


@tornado.web.stream_request_body
class ApiHandler(_Base):
    """Every ``/api/...`` request: checks, then the router (in a worker when it decodes).

    The body is streamed in rather than buffered by Tornado, so that a body over the limit gets
    the JSON 413 with the security headers (not Tornado's bare 400) and is never kept in memory.
    """

    SUPPORTED_METHODS = ("GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "HEAD")

    def initialize(self, guard: Guard, activity: Activity, **kwargs: Any) -> None:
        super().initialize(guard, activity)
        self.api: Api = kwargs["api"]
        self.executor: ThreadPoolExecutor = kwargs["executor"]
        self._body = bytearray()
        self._body_size = 0

    def prepare(self) -> None:
        connection = self.request.connection
        if isinstance(connection, HTTP1Connection):
            # This handler bounds the body itself (data_received); left to the connection, a
            # body over MAX_HTTP_BODY would get a bare 400 written after our answer.
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
        self._send_error(_too_large())

    async def _dispatch(self, path: str) -> None:
        if self._finished:
            return
        method = self.request.method or "GET"
        headers = self.request.headers
        if path != "health" and not self.guard.token_ok(
            headers.get("Authorization", ""), headers.get("X-Dcmview-Token", "")
        ):
            self._send_error(
                Unauthorized("a valid token is required: open the URL printed by dcmview")
            )
            return
        if method not in ("GET", "HEAD") and not self._same_origin():
            self._send_error(Forbidden("cross-origin requests may not change anything"))
            return
        if self._body_size > MAX_BODY_BYTES:
            self._send_error(_too_large())
            return
        request = ApiRequest(
            method="GET" if method == "HEAD" else method,
            path="api/" + path,
            query={k: self.get_query_argument(k) for k in self.request.query_arguments},
            headers={k.lower(): v for k, v in self.request.headers.items()},
            body=bytes(self._body),
        )
        if not self.api.is_blocking(request.method, request.path):
            response = self.api.handle(request)
        else:
            hit = self.api.cached(request)
            if hit is not None:
                response = hit
            else:
                response = await IOLoop.current().run_in_executor(
                    self.executor, self.api.handle, request
                )
        if method == "HEAD":
            response = ApiResponse(response.status, response.headers, b"")
        await self._stream_response(response)

    def _same_origin(self) -> bool:
        site = self.request.headers.get("Sec-Fetch-Site")
        if site is not None and site not in ("same-origin", "none"):
            return False
        origin = self.request.headers.get("Origin")
        if origin is None:
            return True
        return urlsplit(origin).netloc.lower() == (self.request.host or "").lower()

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

    def get(self) -> None:
        if self._finished:
            return
        self.set_header("Content-Security-Policy", PAGE_CSP)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
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

    def set_default_headers(self) -> None:
        self.clear_header("Server")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "no-referrer")

    def prepare(self) -> None:
        self.activity.touch()
        if not self.guard.host_allowed(self.request.host or ""):
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

    def set_extra_headers(self, path: str) -> None:
        self.set_header("Cache-Control", "no-cache")

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish({"code": "not_found" if status_code == 404 else "error", "error": self._reason})


class NotFoundHandler(_Base):
    def get(self, *args: Any) -> None:
        if not self._finished:
            self._send_error(_NotFoundPage("nothing here"))

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
) -> tornado.web.Application:
    """The Tornado application serving ``api`` behind ``guard``."""
    activity = activity or Activity()
    executor = executor or ThreadPoolExecutor(max_workers=4, thread_name_prefix="dcmview-decode")
    common = {"guard": guard, "activity": activity}
    assets = type("BoundAssetHandler", (AssetHandler,), common)
    return tornado.web.Application(
        [
            (r"/", PageHandler, common),
            (r"/index\.html", PageHandler, common),
            (r"/assets/(.*)", assets, {"path": STATIC_DIR}),
            (r"/api/(.*)", ApiHandler, {"api": api, "executor": executor, **common}),
        ],
        default_handler_class=NotFoundHandler,
        default_handler_args=common,
        compress_response=False,
        xsrf_cookies=False,
        serve_traceback=False,
        websocket_max_message_size=None,
    )


def loopback_host(host: str) -> bool:
    """True for names and addresses that only this machine can reach."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _hostname(host_header: str) -> str:
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def allowed_host_set(names: Iterable[str]) -> set[str]:
    return {_hostname(n) for n in names}
