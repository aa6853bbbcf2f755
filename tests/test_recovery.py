"""Unexported ROI edits survive every way a session ends: SIGHUP, a stop while a read is blocked,
kill -9, and recovery folders that cannot be written."""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from .harness import DcmviewProcess

BOX = {"roi_coords": [[1, 1, 5, 5]]}


@pytest.fixture
def folder(ct_pair: Path) -> Path:
    return ct_pair


def edited_server(folder: Path, *args: str, env: dict[str, str]) -> DcmviewProcess:
    """A server over ``folder`` holding one unexported edit (BOX on file 0)."""
    proc = DcmviewProcess("--port", "0", *args, str(folder), env=env)
    proc.wait_scan()
    assert proc.put_json("api/file/0/annotations", BOX).status == 200
    return proc


def saved_paths(proc: DcmviewProcess) -> list[Path]:
    """Every recovery path the server said, in order."""
    marker = "unexported ROI edits were saved to "
    return [Path(line.split(marker, 1)[1]) for line in proc.stderr if marker in line]


def wait_saved(proc: DcmviewProcess, timeout: float = 30) -> Path:
    """The recovery path the server says while it runs (it writes edits as they come)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        paths = saved_paths(proc)
        if paths:
            return paths[0]
        time.sleep(0.05)
    raise TimeoutError(f"no recovery path said within {timeout} s:\n{proc.output}")


def test_sighup_stops_in_order_and_saves_unexported_edits(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with edited_server(folder, env={"XDG_CACHE_HOME": str(cache)}) as proc:
        code = proc.stop(signal.SIGHUP, timeout=30)
    assert code == 0, proc.output
    paths = saved_paths(proc)
    assert len(paths) == 1 and paths[0].is_relative_to(cache), proc.output
    assert "[[1,1,5,5]]" in paths[0].read_text()


def _ignored_signals(pid: int) -> int:
    """The mask of signals a process ignores (SigIgn in /proc/PID/status)."""
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("SigIgn:"))
    return int(line.split()[1], 16)


def test_sighup_is_left_alone_under_nohup(folder: Path) -> None:
    # nohup (or `trap '' HUP`) asks for the server to outlive the terminal: it must keep
    # ignoring SIGHUP rather than put its stop handler in place.
    script = 'trap "" HUP; exec "$0" -m dcmview --no-browser --port 0 "$1"'
    proc = subprocess.Popen(
        ["sh", "-c", script, sys.executable, str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        next(line for line in proc.stdout if "server running at " in line)  # handlers are set
        sighup_bit = 1 << (signal.SIGHUP - 1)
        assert _ignored_signals(proc.pid) & sighup_bit
    finally:
        proc.terminate()
        assert proc.wait(30) == 0


def test_sigterm_with_a_read_blocked_on_a_fifo_saves_edits_and_exits(
    folder: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    with edited_server(folder, env={"XDG_CACHE_HOME": str(cache)}) as proc:
        served = folder / "slice_002.dcm"
        served.unlink()
        os.mkfifo(served)  # opening it for reading waits for a writer that never comes
        blocked = threading.Thread(
            target=lambda: _ignore_errors(proc.get, "api/file/1/frame/0"), daemon=True
        )
        blocked.start()
        blocked.join(1.0)  # give the request time to reach the read
        code = proc.stop(signal.SIGTERM, timeout=60)
    assert code == 0, proc.output
    paths = saved_paths(proc)
    assert len(paths) == 1 and "[[1,1,5,5]]" in paths[0].read_text(), proc.output


def _ignore_errors(call, *args) -> None:
    with contextlib.suppress(OSError):  # the server closes the connection as it stops
        call(*args)


def test_edits_are_on_disk_while_running_so_kill_9_loses_nothing(
    folder: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    with edited_server(folder, env={"XDG_CACHE_HOME": str(cache)}) as proc:
        path = wait_saved(proc)
        assert "[[1,1,5,5]]" in path.read_text()
        bigger = {"roi_coords": [[1, 1, 5, 5], [2, 2, 9, 9]]}
        assert proc.put_json("api/file/1/annotations", bigger).status == 200
        deadline = time.monotonic() + 30
        while "[[1,1,5,5],[2,2,9,9]]" not in path.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.proc.kill()
        proc.wait_exit(30)
    assert "[[1,1,5,5],[2,2,9,9]]" in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert saved_paths(proc) == [path]  # said once, however often it was rewritten
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temp files left


def test_an_export_removes_the_recovery_file(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with edited_server(folder, env={"XDG_CACHE_HOME": str(cache)}) as proc:
        path = wait_saved(proc)
        assert proc.get("api/annotations/export.csv").status == 200
        deadline = time.monotonic() + 30
        while path.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not path.exists()
        assert proc.stop() == 0
    assert saved_paths(proc) == [path]


def unusable_cache(tmp_path: Path) -> dict[str, str]:
    """Environment with XDG_CACHE_HOME naming a file (so no cache folder) and a fresh TMPDIR."""
    not_a_folder = tmp_path / "cache-is-a-file"
    not_a_folder.write_text("x")
    temp = tmp_path / "tmp"
    temp.mkdir()
    return {"XDG_CACHE_HOME": str(not_a_folder), "TMPDIR": str(temp)}


def test_recovery_falls_back_to_the_temp_dir_when_the_cache_is_a_file(
    folder: Path, tmp_path: Path
) -> None:
    env = unusable_cache(tmp_path)
    temp, not_a_folder = Path(env["TMPDIR"]), Path(env["XDG_CACHE_HOME"])
    with edited_server(folder, env=env) as proc:
        assert proc.stop() == 0
    paths = saved_paths(proc)
    assert len(paths) == 1 and paths[0].parent == temp / f"dcmview-recovery-{os.getuid()}"
    assert "[[1,1,5,5]]" in paths[0].read_text()
    assert stat.S_IMODE(paths[0].parent.stat().st_mode) == 0o700
    assert not_a_folder.read_text() == "x"


def test_when_no_folder_takes_the_edits_they_are_printed_to_stderr(
    folder: Path, tmp_path: Path
) -> None:
    env = unusable_cache(tmp_path)
    # The private folder in the temp dir cannot be made either.
    (Path(env["TMPDIR"]) / f"dcmview-recovery-{os.getuid()}").write_text("taken")
    workdir = tmp_path / "work"
    workdir.mkdir()
    with DcmviewProcess("--port", "0", str(folder), env=env, cwd=str(workdir)) as proc:
        proc.wait_scan()
        workdir.rmdir()  # and so does the working directory
        assert proc.put_json("api/file/0/annotations", BOX).status == 200
        assert proc.stop() == 0
    assert saved_paths(proc) == []
    err = "\n".join(proc.stderr)
    assert err.count("no folder takes the recovery file") == 1
    begin, end = err.index("----- begin"), err.index("----- end")
    csv_text = err[begin:end].split("\n", 1)[1]
    assert csv_text.startswith("anon_dicom_path,num_ROI,ROI_coords,ROI_frames")
    assert "[[1,1,5,5]]" in csv_text and str(folder / "slice_001.dcm") in csv_text


def test_recovery_file_follows_the_edits_and_goes_when_they_are_exported(tmp_path: Path) -> None:
    from dcmview.core.recovery import RecoveryFile

    state: dict[str, bytes | None] = {"csv": b"a,b\r\n"}
    broken = tmp_path / "a-file"
    broken.write_text("x")
    good = tmp_path / "good"
    said: list[Path] = []
    warned: list[object] = []
    folders = [broken / "sub", good]
    recovery = RecoveryFile(
        lambda: state["csv"], announce=said.append, warn=warned.append, folders=lambda: folders
    )
    path = recovery.sync()
    assert path is not None and path.parent == good and path.read_bytes() == b"a,b\r\n"
    state["csv"] = b"a,b\r\nc,d\r\n"
    assert recovery.sync() == path and path.read_bytes() == b"a,b\r\nc,d\r\n"
    state["csv"] = None  # exported
    assert recovery.sync() is None and not path.exists()
    assert said == [path] and warned == []
    state["csv"] = b"e,f\r\n"
    folders = [broken / "sub"]  # nowhere to write: warned once, however often it tries
    assert recovery.sync() is None and recovery.sync() is None
    assert len(warned) == 1 and recovery.failures
