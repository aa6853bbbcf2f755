"""Hostile requests against the real server (SPEC §3 errors, §7 security defaults).

Extends ``test_security.py``: more Host and Origin forms, every method that changes state, the
content types a cross-site form can send, security headers on each kind of error, the body limit
for declared, chunked and endless bodies, non-numeric and huge numbers, and traversal attempts.
"""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import pytest

from . import dicomgen as gen
from .harness import DcmviewProcess, Reply

MAX_BODY = 1024 * 1024
FILE_CONTENT_MARKERS = (b"import ", b"root:", b"def ", b"[build-system]", b"<!doctype")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    gen.write_ct_series(root, count=2)
    gen.write_truncated(root, name="zz_truncated.dcm", patient_id="ZZ", study_date="20991231")
    return root


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {"XDG_CACHE_HOME": str(tmp_path_factory.mktemp("cache"))}


@pytest.fixture(scope="module")
def server(folder: Path, cache: dict[str, str]):
    with DcmviewProcess("--port", "0", str(folder), env=cache) as proc:
        proc.wait_scan()
        yield proc


@pytest.fixture(scope="module")
def open_server(folder: Path, cache: dict[str, str]):
    with DcmviewProcess(
        "--port", "0", "--no-token", "--allow-host", "Viewer.Example", str(folder), env=cache
    ) as proc:
        proc.wait_scan()
        yield proc


@pytest.fixture(scope="module")
def broken_index(server: DcmviewProcess) -> int:
    files = server.get("api/files").json()["files"]
    return next(f["index"] for f in files if f["path"].endswith("zz_truncated.dcm"))


def raw_exchange(proc: DcmviewProcess, head: str, body_chunks=(), timeout: float = 15) -> Reply:
    """Send a hand-written request (``head`` without the blank line) and read the answer.

    ``body_chunks`` are sent from a thread while the answer is read, so a server that answers
    before the body ends (and closes) is observed as a client would see it.
    """
    sock = socket.create_connection((proc.host, proc.port), timeout=timeout)
    sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n\r\n")

    def pump() -> None:
        try:
            for chunk in body_chunks:
                sock.sendall(chunk)
        except OSError:
            pass  # the server answered and closed: expected for refused bodies

    sender = threading.Thread(target=pump, daemon=True)
    sender.start()
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            piece = sock.recv(65536)
            if not piece:
                break
            data += piece
        head_bytes, _, rest = data.partition(b"\r\n\r\n")
        lines = head_bytes.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            piece = sock.recv(65536)
            if not piece:
                break
            rest += piece
    finally:
        sock.close()
    sender.join(10)
    return Reply(int(lines[0].split()[1]), headers, rest[:length])


def _annotations(proc: DcmviewProcess) -> dict:
    return proc.get("api/file/0/annotations").json()


# -- DNS rebinding ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "api/files",
        "api/file/0/info",
        "api/file/0/tags",
        "api/file/0/frame/0",
        "api/file/0/frame/0/raw",
        "api/file/0/annotations",
        "api/annotations/export.csv",
    ],
)
@pytest.mark.parametrize("host", ["attacker.example", "127.0.0.1", "localhost:1"])
def test_data_needs_the_token_whatever_the_host(
    server: DcmviewProcess, path: str, host: str
) -> None:
    refused = server.get(path, token=False, headers={"Host": host})
    assert refused.status == 401 and refused.json()["code"] == "unauthorized"
    assert server.get(path, headers={"Host": host}).status == 200


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.0.0.1:9",
        "127.8.9.10:80",
        "localhost",
        "LOCALHOST:9",
        "localhost.",
        "[::1]:9",
        "viewer.example",
        "viewer.example:8080",
    ],
)
def test_without_token_loopback_and_allowed_hosts_are_served(
    open_server: DcmviewProcess, host: str
) -> None:
    for path in ("api/files", "", "assets/viewer.js"):
        assert open_server.get(path, headers={"Host": host}).status == 200, path


@pytest.mark.parametrize(
    "host",
    [
        "attacker.example",
        "localhost.attacker.example",
        "127.0.0.1.attacker.example",
        "viewer.example.attacker.example",
        "0.0.0.0",
        "10.0.0.1:80",
        "2130706433",
        "0x7f000001",
        "[::ffff:a00:1]",
    ],
)
def test_without_token_other_hosts_get_403_everywhere(
    open_server: DcmviewProcess, host: str
) -> None:
    for path in ("api/files", "api/health", "api/file/0/frame/0", "", "assets/viewer.js"):
        reply = open_server.get(path, headers={"Host": host})
        assert reply.status == 403, path
        assert reply.json()["code"] in ("forbidden", "error")
        assert not any(m in reply.body for m in (b"slice_", b"DCMGEN", b"PNG"))


# -- Origin, Sec-Fetch-Site and content type on state-changing requests --------------------
@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://127.0.0.1:1"},
        {"Origin": "http://localhost:{port}"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "http://127.0.0.1:{port}", "Sec-Fetch-Site": "cross-site"},
    ],
    ids=["foreign", "null", "other-port", "other-name", "cross-site", "same-site", "mixed"],
)
@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE", "PATCH"])
def test_cross_origin_state_changes_are_refused(
    server: DcmviewProcess, headers: dict[str, str], method: str
) -> None:
    before = _annotations(server)
    sent = {k: v.format(port=server.port) for k, v in headers.items()}
    reply = server.request(
        method,
        "api/file/0/annotations",
        body=b'{"roi_coords": [[1, 1, 9, 9]]}',
        headers={"Content-Type": "application/json", **sent},
    )
    assert reply.status == 403 and reply.json()["code"] == "forbidden"
    assert _annotations(server) == before


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Origin": "http://127.0.0.1:{port}"},
        {"Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "none"},
    ],
    ids=["script", "same-origin", "fetch-same-origin", "user-initiated"],
)
def test_same_origin_and_script_puts_are_accepted(
    server: DcmviewProcess, headers: dict[str, str]
) -> None:
    sent = {k: v.format(port=server.port) for k, v in headers.items()}
    reply = server.put_json("api/file/1/annotations", {"roi_coords": []}, headers=sent)
    assert reply.status == 200


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json-patch+json",
        "text/json",
        "application/jsonx",
    ],
)
def test_state_changes_need_a_json_content_type(
    server: DcmviewProcess, content_type: str | None
) -> None:
    before = _annotations(server)
    headers = {"Content-Type": content_type} if content_type else {}
    reply = server.request(
        "PUT", "api/file/0/annotations", body=b'{"roi_coords": [[1, 1, 9, 9]]}', headers=headers
    )
    assert reply.status == 415 and reply.json()["code"] == "unsupported_media_type"
    assert _annotations(server) == before


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "Application/JSON"])
def test_json_content_type_parameters_and_case_are_accepted(
    server: DcmviewProcess, content_type: str
) -> None:
    reply = server.request(
        "PUT",
        "api/file/1/annotations",
        body=b'{"roi_coords": []}',
        headers={"Content-Type": content_type},
    )
    assert reply.status == 200


# -- no CORS, security headers on every answer ----------------------------------------------
@pytest.mark.parametrize(
    "path",
    ["", "index.html", "assets/viewer.js", "api/health", "api/files", "api/file/0/frame/0"],
)
def test_preflight_never_succeeds_and_no_cors_headers(server: DcmviewProcess, path: str) -> None:
    preflight = {
        "Origin": "http://evil.example",
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    for token in (True, False):
        reply = server.request("OPTIONS", path, headers=preflight, token=token)
        assert reply.status >= 400
        assert not any(h.startswith("access-control-") for h in reply.headers)
    reply = server.get(path, headers={"Origin": "http://evil.example"})
    assert not any(h.startswith("access-control-") for h in reply.headers)


def _exchanges(port: int, broken: int) -> list[tuple[str, str, str, dict, bytes, int]]:
    json_type = {"Content-Type": "application/json"}
    stale = {**json_type, "If-Match": '"0000000000000000"'}
    return [
        ("page", "GET", "", {}, b"", 200),
        ("asset", "GET", "assets/viewer.js", {}, b"", 200),
        ("health", "GET", "api/health", {}, b"", 200),
        ("files", "GET", "api/files", {}, b"", 200),
        ("png", "GET", "api/file/0/frame/0", {}, b"", 200),
        ("head", "HEAD", "api/files", {}, b"", 200),
        ("bad-index", "GET", "api/file/abc/info", {}, b"", 400),
        ("bad-window", "GET", "api/file/0/frame/0?wc=nan&ww=1", {}, b"", 400),
        ("bad-json", "PUT", "api/file/0/annotations", json_type, b"{", 400),
        ("no-token", "GET", "api/files", {"Authorization": "Bearer nope"}, b"", 401),
        (
            "cross-origin",
            "PUT",
            "api/file/0/annotations",
            {**json_type, "Origin": "http://evil.example"},
            b"{}",
            403,
        ),
        ("api-404", "GET", "api/file/99/info", {}, b"", 404),
        ("no-route", "GET", "api/nothing", {}, b"", 404),
        ("page-404", "GET", "nothing/here", {}, b"", 404),
        ("asset-404", "GET", "assets/nothing.js", {}, b"", 404),
        ("api-405", "POST", "api/files", json_type, b"{}", 405),
        ("page-405", "POST", "", json_type, b"{}", 405),
        ("412", "PUT", "api/file/0/annotations", stale, b'{"roi_coords": []}', 412),
        ("413", "PUT", "api/file/0/annotations", json_type, b" " * (MAX_BODY + 1), 413),
        ("415", "PUT", "api/file/0/annotations", {"Content-Type": "text/plain"}, b"{}", 415),
        ("422", "GET", f"api/file/{broken}/frame/0", {}, b"", 422),
    ]


def test_security_headers_on_every_kind_of_answer(server: DcmviewProcess, broken_index) -> None:
    for name, method, path, headers, body, status in _exchanges(server.port, broken_index):
        reply = server.request(method, path, body=body or None, headers=headers)
        assert reply.status == status, name
        assert reply.header("X-Content-Type-Options") == "nosniff", name
        assert reply.header("Referrer-Policy") == "no-referrer", name
        assert not any(h.startswith("access-control-") for h in reply.headers), name
        assert reply.header("Server") is None, name
        if path.startswith("api/") or status >= 400:
            assert reply.header("Cache-Control") == "no-store", name
        if status >= 400 and method != "HEAD":
            payload = reply.json()
            assert set(payload) == {"code", "error"}, name
            assert "Traceback" not in payload["error"], name
        if path in ("", "index.html") and status == 200:
            assert "frame-ancestors 'self'" in (reply.header("Content-Security-Policy") or "")


# -- body size ---------------------------------------------------------------------------------
def _put_head(proc: DcmviewProcess, extra: str) -> str:
    return (
        f"PUT /api/file/0/annotations HTTP/1.1\nHost: 127.0.0.1:{proc.port}\n"
        f"Authorization: Bearer {proc.token}\nContent-Type: application/json\n{extra}"
    )


def _is_413(reply: Reply) -> bool:
    return (
        reply.status == 413
        and reply.json()["code"] == "payload_too_large"
        and reply.header("X-Content-Type-Options") == "nosniff"
        and reply.header("Cache-Control") == "no-store"
    )


def test_body_at_the_limit_is_read(server: DcmviewProcess) -> None:
    body = b'{"roi_coords": []}'
    padded = body + b" " * (MAX_BODY - len(body))
    reply = server.request(
        "PUT", "api/file/1/annotations", body=padded, headers={"Content-Type": "application/json"}
    )
    assert reply.status == 200


def test_body_one_byte_over_the_limit_gets_413(server: DcmviewProcess) -> None:
    before = _annotations(server)
    reply = server.request(
        "PUT",
        "api/file/0/annotations",
        body=b" " * (MAX_BODY + 1),
        headers={"Content-Type": "application/json"},
    )
    assert _is_413(reply)
    assert _annotations(server) == before


def test_huge_declared_body_is_refused_before_it_is_sent(server: DcmviewProcess) -> None:
    reply = raw_exchange(server, _put_head(server, f"Content-Length: {64 * 1024 * 1024}"))
    assert _is_413(reply)
    assert server.get("api/health").status == 200


def test_chunked_body_over_the_limit_gets_413(server: DcmviewProcess) -> None:
    piece = b"x" * 65536
    chunks = [b"%x\r\n%s\r\n" % (len(piece), piece)] * 24 + [b"0\r\n\r\n"]
    reply = raw_exchange(server, _put_head(server, "Transfer-Encoding: chunked"), chunks)
    assert _is_413(reply)


def test_endless_chunked_body_is_cut_off_with_413(server: DcmviewProcess) -> None:
    piece = b"x" * 65536
    endless = (b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(10_000))  # 640 MiB if read
    reply = raw_exchange(server, _put_head(server, "Transfer-Encoding: chunked"), endless)
    assert _is_413(reply)
    assert server.get("api/health").status == 200


def test_oversize_body_without_token_is_refused_as_unauthorized(server: DcmviewProcess) -> None:
    reply = server.request(
        "PUT",
        "api/file/0/annotations",
        body=b" " * (2 * MAX_BODY),
        headers={"Content-Type": "application/json"},
        token=False,
    )
    assert reply.status == 401 and reply.json()["code"] == "unauthorized"


# -- numbers in paths, queries and bodies ------------------------------------------------------
BAD_NUMBERS = [
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "inf",
    "1e3",
    "0x1",
    "1.0",
    "-0",
    "+1",
    "%201",
    "%D9%A1",  # ARABIC-INDIC DIGIT ONE: a digit to str.isdigit, not to us
    "99999999999999999999",
    "18446744073709551616",
]


@pytest.mark.parametrize("value", [*BAD_NUMBERS, ""])
def test_bad_file_index_is_400_naming_it(server: DcmviewProcess, value: str) -> None:
    for path in (f"api/file/{value}/info", f"api/file/{value}/frame/0/raw"):
        reply = server.get(path)
        assert reply.status == 400, path
        body = reply.json()
        assert body["code"] == "invalid_query" and "file index" in body["error"]


@pytest.mark.parametrize("value", [*BAD_NUMBERS, ""])
def test_bad_frame_index_is_400_naming_it(server: DcmviewProcess, value: str) -> None:
    for path in (f"api/file/0/frame/{value}", f"api/file/0/frame/{value}/raw"):
        reply = server.get(path)
        assert reply.status == 400, path
        body = reply.json()
        assert body["code"] == "invalid_query" and "frame index" in body["error"]


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("wc=NaN&ww=400", "wc"),
        ("wc=40&ww=NaN", "ww"),
        ("wc=Infinity&ww=400", "wc"),
        ("wc=40&ww=-Infinity", "ww"),
        ("wc=1e999&ww=400", "wc"),
        ("wc=40&ww=1e400", "ww"),
        ("wc=&ww=400", "wc"),
        ("wc=40&ww=", "ww"),
        ("wc=0x10&ww=400", "wc"),
        ("wc=40&ww=1e-400", "ww"),
        ("mode=NaN", "mode"),
    ],
)
def test_bad_window_numbers_are_400_naming_the_parameter(
    server: DcmviewProcess, query: str, name: str
) -> None:
    reply = server.get(f"api/file/0/frame/0?{query}")
    assert reply.status == 400
    body = reply.json()
    assert body["code"] in ("invalid_window", "invalid_query") and name in body["error"]


def test_huge_but_finite_window_is_served(server: DcmviewProcess) -> None:
    reply = server.get("api/file/0/frame/0?wc=-1e308&ww=1e308")
    assert reply.status == 200 and reply.body.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'{"roi_coords": [[NaN, 0, 4, 4]]}', "invalid_annotation"),
        (b'{"roi_coords": [[0, 0, Infinity, 4]]}', "invalid_annotation"),
        (b'{"roi_coords": [[0, 0, 1e400, 4]]}', "invalid_annotation"),
        (b'{"roi_coords": [[0, 0, 1e308, 4]]}', "invalid_annotation"),
        (b'{"roi_coords": [[0, 0, 100000000000000000000000000000, 4]]}', "invalid_annotation"),
        (b'{"roi_coords": [[0, 0, ' + b"9" * 5000 + b", 4]]}", "invalid_json"),
        (b'{"num_roi": NaN, "roi_coords": []}', "invalid_annotation"),
        (b'{"roi_coords": [[0, 0, 4, 4]], "roi_frames": [[-Infinity]]}', "invalid_annotation"),
        (b'{"roi_coords": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "invalid_json"),
        (b"[" * 500_000, "invalid_json"),
    ],
    ids=[
        "nan",
        "infinity",
        "overflow",
        "huge-float",
        "huge-int",
        "5000-digits",
        "nan-count",
        "nan-frame",
        "deep",
        "deep-unclosed",
    ],
)
def test_non_finite_huge_or_deep_json_is_400(
    server: DcmviewProcess, body: bytes, code: str
) -> None:
    before = _annotations(server)
    reply = server.request(
        "PUT", "api/file/0/annotations", body=body, headers={"Content-Type": "application/json"}
    )
    assert reply.status == 400 and reply.json()["code"] == code
    assert _annotations(server) == before
    assert server.get("api/health").status == 200


# -- static assets -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "assets/../server/app.py",
        "assets/../../../../../../etc/passwd",
        "assets/..%2fserver%2fapp.py",
        "assets/%2e%2e/api.py",
        "assets/%2e%2e%2fapi.py",
        "assets/%2E%2E%2F%2E%2E%2Fpyproject.toml",
        "assets/%252e%252e/api.py",
        "assets/%252e%252e%252fapi.py",
        "assets/..%5capi.py",
        "assets/..\\api.py",
        "assets/%5c..%5capi.py",
        "assets/%00",
        "assets/viewer.js%00",
        "assets/viewer.js%00.png",
        "assets/%2fetc%2fpasswd",
        "assets//etc/passwd",
        "assets/%2e%2e",
        "assets/.",
        "assets/",
        "assets/....//api.py",
        "assets/%c0%ae%c0%ae/api.py",
        "assets/..%c0%afapi.py",
        "assets/%ff%fe",
        "%2e%2e/%2e%2e/etc/passwd",
        "..%2f..%2fetc%2fpasswd",
    ],
)
def test_traversal_attempts_are_404_without_file_contents(
    server: DcmviewProcess, path: str
) -> None:
    reply = server.get(path, token=False)
    assert reply.status == 404, reply.body[:200]
    assert reply.json()["code"] == "not_found"
    assert not any(marker in reply.body for marker in FILE_CONTENT_MARKERS)


def test_server_is_healthy_after_the_hostile_requests(server: DcmviewProcess) -> None:
    assert server.get("api/health").json()["status"] == "ok"
    assert server.get("api/file/0/frame/0").status == 200
    output = server.output
    assert "Traceback" not in output and "Uncaught exception" not in output
    assert json.loads(server.get("api/files").body)["scan_complete"] is True
