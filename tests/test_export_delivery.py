"""Only an export that reached the user counts: a HEAD, an aborted download, another site's page
fetching the export URL, or a Python export that could not be written leave the edits unexported
(so they are still saved to a recovery file when the server stops)."""

from __future__ import annotations

import socket
import struct
from pathlib import Path

import pytest

from dcmview.core.session import open_session

from .harness import DcmviewProcess
from .test_recovery import BOX, edited_server, saved_paths

EXPORT = "api/annotations/export.csv"


@pytest.fixture
def folder(ct_pair: Path) -> Path:
    return ct_pair


def server(folder: Path, tmp_path: Path, *args: str) -> DcmviewProcess:
    return edited_server(folder, *args, env={"XDG_CACHE_HOME": str(tmp_path / "cache")})


def recovered_after_stop(proc: DcmviewProcess) -> str:
    """The recovery CSV the server left when stopped ("" when it left none)."""
    assert proc.stop() == 0, proc.output
    paths = saved_paths(proc)
    return paths[-1].read_text() if paths and paths[-1].exists() else ""


def test_a_head_of_the_export_is_not_an_export(folder: Path, tmp_path: Path) -> None:
    proc = server(folder, tmp_path)
    try:
        reply = proc.request("HEAD", EXPORT)
        assert reply.status == 200 and reply.body == b""
    finally:
        recovered = recovered_after_stop(proc)
    assert "[[1,1,5,5]]" in recovered


def test_an_aborted_download_is_not_an_export(folder: Path, tmp_path: Path) -> None:
    # Rows of other files with a large kept column make the export ~16 MB: more than the socket
    # buffers between server and client hold, so the download cannot end before we cut it.
    big = tmp_path / "big.csv"
    note = "n" * 100_000
    rows = "".join(f"/elsewhere/x{i}.dcm,[],{note}\r\n" for i in range(160))
    big.write_text("anon_dicom_path,ROI_coords,note\r\n" + rows)
    proc = server(folder, tmp_path, "--annotations", str(big))
    try:
        client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        client.connect((proc.host, proc.port))
        client.sendall(
            f"GET /{EXPORT} HTTP/1.1\r\nHost: {proc.host}:{proc.port}\r\n"
            f"Authorization: Bearer {proc.token}\r\n\r\n".encode()
        )
        assert client.recv(1024).startswith(b"HTTP/1.1 200")
        # Cancel the download: reset the connection with most of the body unread.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
        assert proc.get("api/health").status == 200
    finally:
        recovered = recovered_after_stop(proc)
    assert "[[1,1,5,5]]" in recovered


def test_another_sites_page_fetching_the_export_is_not_an_export(
    folder: Path, tmp_path: Path
) -> None:
    # Under --no-token any page can point an <img> at the export URL; the browser fetches it
    # (no-cors, the headers below are Chromium's) but nobody receives a file.
    proc = server(folder, tmp_path, "--no-token")
    try:
        reply = proc.get(
            EXPORT,
            headers={
                "Sec-Fetch-Site": "cross-site",
                "Sec-Fetch-Mode": "no-cors",
                "Sec-Fetch-Dest": "image",
                "Referer": "http://evil.example/",
            },
        )
        assert reply.status == 200 and b"[[1,1,5,5]]" in reply.body
    finally:
        recovered = recovered_after_stop(proc)
    assert "[[1,1,5,5]]" in recovered


def test_a_download_by_our_own_page_is_an_export(folder: Path, tmp_path: Path) -> None:
    proc = server(folder, tmp_path)
    try:
        reply = proc.get(EXPORT, headers={"Sec-Fetch-Site": "same-origin"})
        assert reply.status == 200 and b"[[1,1,5,5]]" in reply.body
    finally:
        recovered = recovered_after_stop(proc)
    assert recovered == ""


def test_a_python_export_that_cannot_be_written_is_not_an_export(
    folder: Path, tmp_path: Path
) -> None:
    session = open_session([str(folder)])
    session.scan()
    try:
        store = session.annotation_store()
        store.put(0, BOX)
        with pytest.raises(OSError):
            session.write_export(tmp_path / "no-such-folder" / "rois.csv")
        assert store.dirty
        written = session.write_export(tmp_path / "rois.csv")
        assert "[[1,1,5,5]]" in written.read_text() and not store.dirty
    finally:
        session.close()
