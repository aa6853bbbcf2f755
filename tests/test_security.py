"""SPEC §7 defaults: token, Host and Origin checks, headers, no CORS, contained assets."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import dicomgen as gen
from .harness import DcmviewProcess


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sec")
    gen.write_ct_series(root, count=2)
    return root


@pytest.fixture(scope="module")
def server(folder: Path):
    with DcmviewProcess("--port", "0", str(folder)) as proc:
        proc.wait_scan()
        yield proc


@pytest.fixture(scope="module")
def open_server(folder: Path):
    with DcmviewProcess(
        "--port", "0", "--no-token", "--allow-host", "viewer.example", str(folder)
    ) as proc:
        proc.wait_scan()
        yield proc


def test_token_is_long_and_url_safe(server: DcmviewProcess) -> None:
    assert server.token and len(server.token) >= 43
    assert all(c.isalnum() or c in "-_" for c in server.token)


def test_token_is_accepted_under_any_host(server: DcmviewProcess) -> None:
    reply = server.get("api/files", headers={"Host": "hub.example.org"})
    assert reply.status == 200


def test_fixed_token_from_environment(folder: Path, serve) -> None:
    proc = serve("--port", "0", str(folder), env={"DCMVIEW_TOKEN": "fixed-token-for-scripts"})
    assert proc.token == "fixed-token-for-scripts"
    assert proc.get("api/files").status == 200
    cmdline = Path(f"/proc/{proc.proc.pid}/cmdline").read_bytes()
    assert b"fixed-token-for-scripts" not in cmdline


def test_public_paths_need_no_token(server: DcmviewProcess) -> None:
    assert server.get("", token=False).status == 200
    assert server.get("api/health", token=False).status == 200


@pytest.mark.parametrize("path", ["", "api/health", "api/files", "api/nope", "assets/index.html"])
def test_security_headers_on_every_response(server: DcmviewProcess, path: str) -> None:
    reply = server.get(path)
    assert reply.header("X-Content-Type-Options") == "nosniff"
    assert reply.header("Referrer-Policy") == "no-referrer"
    assert not any(h.startswith("access-control-") for h in reply.headers)


def test_data_is_not_cached_and_the_page_has_a_csp(server: DcmviewProcess) -> None:
    assert server.get("api/files").header("Cache-Control") == "no-store"
    assert server.get("api/file/0/frame/0").header("Cache-Control") == "no-store"
    csp = server.get("").header("Content-Security-Policy")
    assert csp and "frame-ancestors 'self'" in csp


def test_no_cors_preflight(server: DcmviewProcess) -> None:
    reply = server.request(
        "OPTIONS",
        "api/file/0/annotations",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "PUT"},
    )
    assert reply.status in (401, 403, 404, 405)
    assert not any(h.startswith("access-control-") for h in reply.headers)


def test_cross_origin_put_is_refused(server: DcmviewProcess) -> None:
    body = b'{"roi_coords": []}'
    reply = server.request(
        "PUT",
        "api/file/0/annotations",
        body=body,
        headers={"Content-Type": "application/json", "Origin": "http://evil.example"},
    )
    assert reply.status == 403 and reply.json()["code"] == "forbidden"
    reply = server.request(
        "PUT",
        "api/file/0/annotations",
        body=body,
        headers={"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"},
    )
    assert reply.status == 403
    same = server.request(
        "PUT",
        "api/file/0/annotations",
        body=body,
        headers={
            "Content-Type": "application/json",
            "Origin": f"http://127.0.0.1:{server.port}",
            "Sec-Fetch-Site": "same-origin",
        },
    )
    assert same.status == 200


def test_without_token_foreign_hosts_are_refused(open_server: DcmviewProcess) -> None:
    assert open_server.get("api/files").status == 200
    assert open_server.get("api/files", headers={"Host": "localhost:1"}).status == 200
    assert open_server.get("api/files", headers={"Host": "[::1]:1"}).status == 200
    assert open_server.get("api/files", headers={"Host": "viewer.example"}).status == 200
    rebound = open_server.get("api/files", headers={"Host": "attacker.example"})
    assert rebound.status == 403 and rebound.json()["code"] == "forbidden"
    assert open_server.get("", headers={"Host": "attacker.example"}).status == 403


@pytest.mark.parametrize(
    "path",
    [
        "assets/../server/app.py",
        "assets/%2e%2e/api.py",
        "assets/%252e%252e/api.py",
        "assets/..%5capi.py",
        "assets/%00",
        "assets/../../../../etc/passwd",
    ],
)
def test_assets_cannot_escape_their_folder(server: DcmviewProcess, path: str) -> None:
    reply = server.get(path)
    assert reply.status in (400, 403, 404)
    assert b"import" not in reply.body and b"root:" not in reply.body


def test_token_header_alternative_for_proxied_pages(server: DcmviewProcess) -> None:
    ok = server.get("api/files", token=False, headers={"X-Dcmview-Token": server.token})
    assert ok.status == 200
    bad = server.get("api/files", token=False, headers={"X-Dcmview-Token": "nope"})
    assert bad.status == 401
