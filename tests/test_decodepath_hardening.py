"""Nothing hangs, nothing is served wrong: deep folders, named pipes, files changed on disk,
damaged frames asked for again and again, empty VOI LUTs (issue 18).

Everything runs in this process over real files (a Study and the API router), so a hang shows up
as a thread that is still blocked after a generous wait, and is then released by the test.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pydicom
import pytest

from dcmview.api import Api, ApiRequest, ApiResponse
from dcmview.core import workers
from dcmview.core.discovery import scan
from dcmview.core.study import Study

from . import dicomgen as gen
from . import malformed

# A hang is a thread still blocked after this long (a liveness check, not a speed one: every
# call here takes milliseconds when it works).
HANG = 20.0


def _finishes(call: Callable[[], Any], release: Callable[[], None]) -> Any:
    """``call()``'s result; fails when it is still blocked after HANG seconds (then ``release``
    unblocks it, so the test run does not hang with it)."""
    outcome: list[Any] = []
    thread = threading.Thread(target=lambda: outcome.append(_catch(call)), daemon=True)
    thread.start()
    thread.join(HANG)
    if thread.is_alive():
        release()
        thread.join(HANG)
        pytest.fail("the call blocked")
    value = outcome[0]
    if isinstance(value, BaseException):
        raise value
    return value


def _catch(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except BaseException as exc:
        return exc


def _unblock_fifo(path: Path) -> Callable[[], None]:
    """Open the FIFO for writing and close it: a reader blocked in open() or read() goes on."""

    def release() -> None:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            return
        os.close(fd)

    return release


def _study(*paths: Path) -> tuple[Study, Api]:
    study = Study([str(p) for p in paths])
    study.scan()
    return study, Api(study)


def _get(api: Api, path: str) -> ApiResponse:
    return api.handle(ApiRequest("GET", path))


@pytest.fixture(autouse=True)
def _no_workers() -> Iterator[None]:
    yield
    workers.shutdown()


# -- a folder nested ~1,100 deep ---------------------------------------------------------------
def test_scan_reads_a_folder_nested_1100_deep(tmp_path: Path) -> None:
    gen.write_ct_series(tmp_path, count=1, size=16)
    deep = str(tmp_path)
    for _ in range(1100):  # one level at a time: os.makedirs and Path.mkdir recurse too
        deep += "/d"
        os.mkdir(deep)
    gen.write_ct_series(deep, count=1, size=16)
    records, entries, scanned = scan([str(tmp_path)])
    assert scanned == 2
    assert [r.path for r in records if "/d/d/" in r.path] == [f"{deep}/slice_001.dcm"]
    assert entries == []


def test_scan_order_is_each_folders_files_then_its_subfolders_by_name(tmp_path: Path) -> None:
    for folder in ("b", "a/z", "a", "a/c", ""):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        (tmp_path / folder / "f.txt").write_text("x")
    names = [
        os.path.relpath(r.path, tmp_path)
        for r in scan([str(tmp_path)])[1]  # not DICOM: every file is an entry, in order
    ]
    assert names == ["f.txt", "a/f.txt", "a/c/f.txt", "a/z/f.txt", "b/f.txt"]


# -- named pipes -------------------------------------------------------------------------------
def test_scan_skips_a_named_pipe_with_a_reason_and_loads_the_rest(tmp_path: Path) -> None:
    gen.write_ct_series(tmp_path, count=2, size=16)
    fifo = tmp_path / "pipe.dcm"
    os.mkfifo(fifo)
    records, entries, scanned = _finishes(lambda: scan([str(tmp_path)]), _unblock_fifo(fifo))
    assert scanned == 3 and len(records) == 2
    assert [(e.path, e.disposition) for e in entries] == [(str(fifo), "skipped")]
    assert "named pipe" in entries[0].reason


def test_a_named_pipe_named_on_the_command_line_is_skipped_with_a_reason(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.dcm"
    os.mkfifo(fifo)
    _, entries, _ = _finishes(lambda: scan([str(fifo)]), _unblock_fifo(fifo))
    assert len(entries) == 1 and "named pipe" in entries[0].reason


def test_a_served_file_replaced_by_a_named_pipe_is_refused_and_others_still_decode(
    tmp_path: Path,
) -> None:
    slices = gen.write_ct_series(tmp_path, count=2, size=16)
    _, api = _study(tmp_path)
    victim = slices[0].path
    os.remove(victim)
    os.mkfifo(victim)
    for route in ("api/file/0/frame/0/raw", "api/file/0/frame/0", "api/file/0/tags"):
        reply = _finishes(lambda route=route: _get(api, route), _unblock_fifo(victim))
        assert reply.status == 409, route
        assert reply.json()["code"] == "file_changed"
        assert "named pipe" in reply.json()["error"]
    assert _get(api, "api/file/1/frame/0/raw").status == 200


# -- files changed on disk while served --------------------------------------------------------
def _rewrite_pixels(path: Path, keep_size: bool) -> None:
    """Write the same file with other pixel values (same size) or one byte longer."""
    ds = pydicom.dcmread(path)
    ds.PixelData = bytes(255 - b for b in ds.PixelData)
    ds.save_as(path)
    if not keep_size:
        with open(path, "ab") as fp:
            fp.write(b"\0")
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


@pytest.mark.parametrize("keep_size", [True, False], ids=["same_size", "grown"])
def test_a_file_changed_on_disk_answers_409_not_other_pixels(
    tmp_path: Path, keep_size: bool
) -> None:
    slices = gen.write_ct_series(tmp_path, count=2, size=16)
    _, api = _study(tmp_path)
    _rewrite_pixels(slices[0].path, keep_size)
    for route in ("api/file/0/frame/0/raw", "api/file/0/frame/0"):
        reply = _get(api, route)
        assert reply.status == 409, route
        body = reply.json()
        assert body["code"] == "file_changed"
        assert "changed on disk" in body["error"] and str(tmp_path) not in body["error"]
    assert _get(api, "api/file/1/frame/0/raw").status == 200


def test_a_removed_file_answers_409(tmp_path: Path) -> None:
    slices = gen.write_ct_series(tmp_path, count=1, size=16)
    _, api = _study(tmp_path)
    os.remove(slices[0].path)
    reply = _get(api, "api/file/0/frame/0/raw")
    assert (reply.status, reply.json()["code"]) == (409, "file_changed")


def test_discovery_records_size_and_modification_time(tmp_path: Path) -> None:
    slices = gen.write_ct_series(tmp_path, count=1, size=16)
    records, _, _ = scan([str(tmp_path)])
    stat = os.stat(slices[0].path)
    assert (records[0].size, records[0].mtime_ns) == (stat.st_size, stat.st_mtime_ns)


def test_an_unchanged_compressed_file_still_decodes(tmp_path: Path) -> None:
    written = malformed.mutation_sources(tmp_path)
    _, api = _study(*written)
    statuses = {_get(api, f"api/file/{i}/frame/0/raw").status for i in range(len(written))}
    assert statuses == {200}
