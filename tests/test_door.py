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


def test_every_frame_request_is_matched_once(tmp_path: Path) -> None:
    # The fast path matches plain frame GETs; a miss's route is handed to the handler.
    import asyncio
    import threading
    import urllib.request

    from dcmview.api import Api
    from dcmview.core.session import open_session
    from dcmview.server.app import Activity, Routed, make_app, make_server
    from dcmview.server.cached import FastFrames
    from dcmview.server.guard import Guard

    gen.write_multiframe(tmp_path, frames=2, rows=16, columns=16)
    session = open_session([str(tmp_path)])
    session.scan()
    api = Api(session)
    matched: list[str] = []
    real_route = api.route

    def counting(method: str, path: str):
        matched.append(path.lstrip("/"))
        return real_route(method, path)

    api.route = counting  # type: ignore[method-assign]
    guard, activity, routed = Guard(token=None), Activity(), Routed()
    ready = threading.Event()
    port: list[int] = []
    loop = asyncio.new_event_loop()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        app = make_app(api, guard, activity, routed=routed)
        server = make_server(FastFrames(app, api, guard, activity, routed))
        server.listen(0, "127.0.0.1")
        port.append(next(iter(server._sockets.values())).getsockname()[1])
        ready.set()
        loop.run_forever()

    threading.Thread(target=serve, daemon=True).start()
    assert ready.wait(10)
    try:
        for path, cache in (
            ("api/file/0/frame/1/raw", "MISS"),
            ("api/file/0/frame/1/raw", "HIT"),
            ("api/file/0/frame/0", "MISS"),
            ("api/file/0/info", None),
        ):
            matched.clear()
            with urllib.request.urlopen(f"http://127.0.0.1:{port[0]}/{path}") as reply:
                assert reply.status == 200
                assert reply.headers.get("X-Cache") == cache
            assert matched == [path], path
    finally:
        loop.call_soon_threadsafe(loop.stop)
        session.close()
