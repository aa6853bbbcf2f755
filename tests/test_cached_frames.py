"""Cache hits of frame GETs are answered below Tornado's handlers (``FastFrames``): the same
checks, headers and bytes as a miss, and everything unusual still answered by the full path."""

from __future__ import annotations

import http.client
import socket
from pathlib import Path

import pytest

from . import dicomgen as gen
from .harness import DcmviewProcess, Reply

FRAME_PATHS = [
    "api/file/0/frame/1/raw",
    "api/file/0/frame/1",
    "api/file/0/frame/1?wc=40&ww=400",
    "api/file/0/frame/1?mode=full_dynamic",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("cached")
    gen.write_multiframe(root, frames=3, rows=64, columns=48)
    with DcmviewProcess("--port", "0", str(root)) as proc:
        proc.wait_scan()
        yield proc


def _comparable(reply: Reply) -> dict[str, str]:
    return {k: v for k, v in reply.headers.items() if k not in ("x-cache", "date")}


@pytest.mark.parametrize("path", FRAME_PATHS)
def test_a_hit_has_the_headers_and_bytes_of_the_miss(server: DcmviewProcess, path: str) -> None:
    first = server.get(path)
    again = server.get(path)
    assert first.status == again.status == 200
    assert again.header("x-cache") == "HIT"
    assert again.body == first.body
    assert _comparable(again) == _comparable(first)
    for name in ("x-content-type-options", "referrer-policy", "cache-control", "date"):
        assert again.header(name), name
    assert again.header("cache-control") == "no-store"
    assert int(again.header("content-length") or -1) == len(again.body)


@pytest.mark.parametrize("path", FRAME_PATHS)
def test_a_cached_frame_still_needs_the_token(server: DcmviewProcess, path: str) -> None:
    assert server.get(path).header("x-cache") in ("HIT", "MISS")
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"X-Dcmview-Token": "wrong"}):
        reply = server.get(path, token=False, headers=headers)
        assert reply.status == 401
        assert reply.json()["code"] == "unauthorized"
        assert reply.header("x-content-type-options") == "nosniff"
    reply = server.get(path, token=False, headers={"X-Dcmview-Token": server.token or ""})
    assert reply.status == 200 and reply.header("x-cache") == "HIT"


def test_a_cached_frame_refuses_a_foreign_host_without_token(tmp_path: Path) -> None:
    gen.write_multiframe(tmp_path, frames=2, rows=16, columns=16)
    with DcmviewProcess("--port", "0", "--no-token", str(tmp_path)) as proc:
        proc.wait_scan()
        assert proc.get("api/file/0/frame/0/raw").status == 200
        assert proc.get("api/file/0/frame/0/raw").header("x-cache") == "HIT"
        reply = proc.get("api/file/0/frame/0/raw", headers={"Host": "evil.example"})
        assert reply.status == 403 and reply.json()["code"] == "forbidden"


def test_requests_the_fast_path_leaves_alone_get_the_full_answers(
    server: DcmviewProcess,
) -> None:
    path = "api/file/0/frame/2/raw"
    full = server.get(path)
    assert server.get(path).header("x-cache") == "HIT"
    head = server.request("HEAD", path)
    assert head.status == 200 and head.body == b""
    assert head.header("x-frame-rows") == full.header("x-frame-rows")
    escaped = server.get("api/file/0/frame/%32/raw")  # "%32" is "2"
    assert escaped.status == 200 and escaped.body == full.body
    assert server.get("api/file/0/frame/9/raw").status == 404
    assert server.get("api/file/0/frame/2?ww=0").status == 400
    assert server.request("PUT", path, body=b"x").status == 405


def test_keep_alive_and_http_1_0_on_cached_frames(server: DcmviewProcess) -> None:
    path = "/api/file/0/frame/0/raw"
    auth = {"Authorization": f"Bearer {server.token}"}
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    bodies = []
    for _ in range(5):  # one connection: misses and hits in turn
        conn.request("GET", path, headers=auth)
        resp = conn.getresponse()
        bodies.append(resp.read())
        assert resp.status == 200
    conn.close()
    assert len(set(bodies)) == 1
    with socket.create_connection((server.host, server.port), timeout=30) as sock:
        request = f"GET {path} HTTP/1.0\r\nAuthorization: {auth['Authorization']}\r\n\r\n"
        sock.sendall(request.encode())
        data = b""
        while chunk := sock.recv(65536):  # HTTP/1.0 without keep-alive: the server closes
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert b"X-Cache: HIT" in head
    assert body == bodies[0]
