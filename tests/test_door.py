"""The door of the server: one Host parser, Tornado's own answers and bodies on non-API paths.

Every entrance (the API handler, the page, the assets, the cached-frame fast path and Tornado's
answer to a malformed request) asks one guard and takes its headers from one table.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dcmview.server.guard import hostname

from . import dicomgen as gen
from .harness import DcmviewProcess
from .test_hardening_network import raw_exchange


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("door")
    gen.write_ct_series(root, count=2)
    return root


@pytest.fixture(scope="module")
def open_server(folder: Path, tmp_path_factory: pytest.TempPathFactory):
    cache = {"XDG_CACHE_HOME": str(tmp_path_factory.mktemp("cache"))}
    with DcmviewProcess("--port", "0", "--no-token", str(folder), env=cache) as proc:
        proc.wait_scan()
        yield proc


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("localhost", "localhost"),
        ("LocalHost:8080", "localhost"),
        ("localhost.", "localhost"),
        ("[::1]:80", "::1"),
        ("[::1]", "::1"),
        ("127.0.0.1:1", "127.0.0.1"),
        ("localhost:80:80", None),
        ("[::1]x", None),
        ("::1", None),
        ("localhost@evil.example", None),
        ("127.0.0.1, evil.example", None),
        ("localhost:port", None),
        ("", None),
    ],
)
def test_one_host_parser_reads_or_refuses(value: str, expected: str | None) -> None:
    assert hostname(value) == expected


@pytest.mark.parametrize(
    "host", ["localhost:80:80", "[::1]x", "localhost@evil.example", "127.0.0.1, evil.example"]
)
@pytest.mark.parametrize("path", ["api/file/0/frame/0/raw", "api/file/0/tags", "", "assets/x"])
def test_malformed_host_is_refused_at_every_entrance(
    open_server: DcmviewProcess, host: str, path: str
) -> None:
    open_server.get("api/file/0/frame/0/raw")  # cached: the fast path would answer a hit
    reply = raw_exchange(open_server, f"GET /{path} HTTP/1.1\nHost: {host}")
    # Tornado itself refuses some of these forms (400); the guard refuses the others (403).
    assert reply.status in (400, 403)
    assert reply.header("X-Content-Type-Options") == "nosniff"


def test_bracketed_loopback_host_is_served(open_server: DcmviewProcess) -> None:
    reply = raw_exchange(open_server, f"GET /api/files HTTP/1.1\nHost: [::1]:{open_server.port}")
    assert reply.status == 200


def test_tornados_own_400_carries_the_security_headers(open_server: DcmviewProcess) -> None:
    reply = raw_exchange(open_server, "NONSENSE")
    assert reply.status == 400
    assert reply.header("X-Content-Type-Options") == "nosniff"
    assert reply.header("Referrer-Policy") == "no-referrer"
    assert reply.header("Cache-Control") == "no-store"


def test_a_large_body_to_a_page_path_is_refused_before_it_is_sent(
    open_server: DcmviewProcess,
) -> None:
    # Nothing of the body is sent: a server that waited to buffer it would never answer.
    head = f"POST / HTTP/1.1\nHost: 127.0.0.1:{open_server.port}\nContent-Length: {1024 * 1024}"
    reply = raw_exchange(open_server, head, timeout=10)
    assert reply.status == 400
    assert reply.header("X-Content-Type-Options") == "nosniff"
    assert open_server.get("api/health").status == 200


class _InProcess:
    """The server's own parts (app, fast path, HTTP server) on an event loop in a thread."""

    def __init__(self, folder: Path, **server_settings: float) -> None:
        import asyncio
        import threading

        from dcmview.api import Api
        from dcmview.core.session import open_session
        from dcmview.server import app as app_module
        from dcmview.server.cached import FastFrames
        from dcmview.server.guard import Guard

        self.session = open_session([str(folder)])
        self.session.scan()
        self.api = Api(self.session)
        guard, activity, routed = Guard(token=None), app_module.Activity(), app_module.Routed()
        ready = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.port = 0

        def serve() -> None:
            asyncio.set_event_loop(self.loop)
            app = app_module.make_app(self.api, guard, activity, routed=routed)
            fast = FastFrames(app, self.api, guard, activity, routed)
            server = app_module.make_server(fast)
            for name, value in server_settings.items():  # e.g. a shorter body_timeout
                setattr(server.conn_params, name, value)
            server.listen(0, "127.0.0.1")
            self.port = next(iter(server._sockets.values())).getsockname()[1]
            ready.set()
            self.loop.run_forever()

        threading.Thread(target=serve, daemon=True).start()
        assert ready.wait(10)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.session.close()


def test_every_frame_request_is_matched_once(tmp_path: Path) -> None:
    # The fast path matches plain frame GETs; a miss's route is handed to the handler.
    import urllib.request

    gen.write_multiframe(tmp_path, frames=2, rows=16, columns=16)
    server = _InProcess(tmp_path)
    matched: list[str] = []
    real_route = server.api.route

    def counting(method: str, path: str):
        matched.append(path.lstrip("/"))
        return real_route(method, path)

    server.api.route = counting  # type: ignore[method-assign]
    try:
        for path, cache in (
            ("api/file/0/frame/1/raw", "MISS"),
            ("api/file/0/frame/1/raw", "HIT"),
            ("api/file/0/frame/0", "MISS"),
            ("api/file/0/info", None),
        ):
            matched.clear()
            with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/{path}") as reply:
                assert reply.status == 200
                assert reply.headers.get("X-Cache") == cache
            assert matched == [path], path
    finally:
        server.close()


def test_a_stalled_upload_is_let_go(tmp_path: Path) -> None:
    # A body that stops arriving is not waited for forever (the server's body timeout; 30 s in
    # use, a fraction of a second here).
    import socket

    from dcmview.server.app import BODY_TIMEOUT, make_server

    assert make_server(object()).conn_params.body_timeout == BODY_TIMEOUT
    gen.write_multiframe(tmp_path, frames=1, rows=8, columns=8)
    server = _InProcess(tmp_path, body_timeout=0.5)
    try:
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=20)
        sock.sendall(
            b"PUT /api/file/0/annotations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"roi'
        )
        received = b""
        while True:  # the server closes the connection (with or without an answer)
            piece = sock.recv(65536)
            if not piece:
                break
            received += piece
        sock.close()
        assert b"200 OK" not in received
    finally:
        server.close()
