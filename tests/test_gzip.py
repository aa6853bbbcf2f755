"""JSON answers travel gzipped to clients that accept it; pixels and small answers never do."""

from __future__ import annotations

import gzip
import json

import pytest

from dcmview.api import accepts_gzip
from dcmview.core.packed import Packed

from . import dicomgen as gen
from .harness import DcmviewProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("gzip")
    gen.write_tiny_series(root, count=120)
    with DcmviewProcess("--port", "0", str(root)) as proc:
        proc.wait_scan()
        yield proc


def test_the_file_list_is_gzipped_when_accepted(server: DcmviewProcess) -> None:
    plain = server.get("api/files")
    packed = server.get("api/files", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert plain.header("Content-Encoding") is None
    assert packed.header("Content-Encoding") == "gzip"
    assert packed.header("Vary") == "Accept-Encoding"
    assert len(packed.body) * 5 < len(plain.body)
    assert gzip.decompress(packed.body) == plain.body
    again = server.get("api/files", headers={"Accept-Encoding": "gzip"})
    assert again.body == packed.body  # the same listing, compressed once


def test_tags_are_gzipped_and_frames_are_not(server: DcmviewProcess) -> None:
    accept = {"Accept-Encoding": "gzip"}
    tags = server.get("api/file/0/tags", headers=accept)
    assert tags.header("Content-Encoding") == "gzip"
    assert gzip.decompress(tags.body) == server.get("api/file/0/tags").body
    for path in ("api/file/0/frame/0", "api/file/0/frame/0/raw"):
        frame = server.get(path, headers=accept)
        assert frame.status == 200 and frame.header("Content-Encoding") is None


def test_small_answers_stay_plain(server: DcmviewProcess) -> None:
    health = server.get("api/health", headers={"Accept-Encoding": "gzip"})
    assert health.header("Content-Encoding") is None and health.json()["status"] == "ok"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip", True),
        ("deflate, gzip;q=0.5", True),
        ("*", True),
        ("gzip;q=0", False),
        ("identity", False),
        ("", False),
    ],
)
def test_accept_encoding_is_read_as_http_says(header: str, expected: bool) -> None:
    assert accepts_gzip(header) is expected


def test_a_packed_text_is_served_plain_or_as_one_gzip_member() -> None:
    files = [
        {"index": i, "path": f"/data/séries/slice_{i:04d}.dcm", "series_instance_uid": "1.2.3.4"}
        for i in range(500)
    ]
    parts = [b'{"files":', json.dumps(files).encode(), b","]
    packed = Packed.of(parts)
    end = b'"scan_complete":true}'
    assert packed.text(end) == b"".join(parts) + end
    assert gzip.decompress(packed.gzip(end)) == b"".join(parts) + end
    assert len(packed.deflated) * 5 < packed.size  # kept deflated
    assert gzip.decompress(Packed.of([]).gzip(b"{}")) == b"{}"
