"""Refusals at start-up, each one clear line and never a traceback: a short DCMVIEW_TOKEN, and a
--unix-socket path that is taken (a file, a symlink, a folder, another server's live socket)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from .harness import DcmviewProcess, run_cli
from .test_cli import _UnixConnection


@pytest.fixture
def folder(ct_pair: Path) -> Path:
    return ct_pair


def refused(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run dcmview expecting it to refuse at once (a server that starts instead fails here)."""
    result = run_cli(*args, timeout=30, env=env)
    assert "server running" not in result.stdout, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result


def test_a_token_shorter_than_16_characters_is_refused(folder: Path) -> None:
    result = refused("--port", "0", str(folder), env={"DCMVIEW_TOKEN": "x" * 15})
    assert result.returncode == 2
    assert "DCMVIEW_TOKEN" in result.stderr and "at least 16" in result.stderr


def test_a_token_of_16_characters_is_used(folder: Path, serve) -> None:
    token = "abcdefghijklmnop"
    proc = serve("--port", "0", str(folder), env={"DCMVIEW_TOKEN": token})
    assert proc.token == token and proc.get("api/files").status == 200


@pytest.mark.parametrize("kind", ["file", "symlink", "folder"])
def test_a_unix_socket_path_that_is_not_a_socket_is_refused_and_kept(
    folder: Path, tmp_path: Path, kind: str
) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    path = tmp_path / "taken"
    if kind == "file":
        path.write_text("keep me")
    elif kind == "symlink":
        path.symlink_to(target)
    else:
        path.mkdir()
    result = refused("--unix-socket", str(path), str(folder))
    assert result.returncode == 2 and "not a socket" in result.stderr
    assert str(path) in result.stderr
    if kind == "file":
        assert path.read_text() == "keep me"
    elif kind == "symlink":
        assert path.is_symlink() and os.readlink(path) == str(target)
    else:
        assert path.is_dir()
    assert target.read_text() == "keep me"


def _serves(path: str, token: str | None) -> bool:
    conn = _UnixConnection(path)
    conn.request("GET", "/api/health", headers={"Authorization": f"Bearer {token}"})
    ok = conn.getresponse().status == 200
    conn.close()
    return ok


def test_a_second_server_never_takes_over_a_live_socket(folder: Path, tmp_path: Path) -> None:
    path = str(tmp_path / "dcmview.sock")
    with DcmviewProcess("--unix-socket", path, str(folder)) as first:
        first.wait_url()
        deadline = time.monotonic() + 30
        while not os.path.exists(path) and time.monotonic() < deadline:
            time.sleep(0.05)
        result = refused("--unix-socket", path, str(folder))
        assert result.returncode == 1 and "another server is listening" in result.stderr
        assert _serves(path, first.token)
        assert first.stop() == 0
    assert not os.path.exists(path)


def test_a_stale_socket_left_by_a_killed_server_is_replaced(folder: Path, tmp_path: Path) -> None:
    path = str(tmp_path / "stale.sock")
    old = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old.bind(path)
    old.close()  # the file stays, nobody listens: what a killed server leaves
    with DcmviewProcess("--unix-socket", path, str(folder)) as proc:
        proc.wait_url()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if _serves(path, proc.token):
                    break
            except OSError:
                time.sleep(0.05)
        assert _serves(path, proc.token)
        assert proc.stop() == 0
