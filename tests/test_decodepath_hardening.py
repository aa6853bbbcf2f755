"""Nothing hangs, nothing is served wrong: deep folders, named pipes, files changed on disk,
damaged frames asked for again and again, empty VOI LUTs (issue 18).

Everything runs in this process over real files (a Session and the API router), so a hang shows up
as a thread that is still blocked after a generous wait, and is then released by the test.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pydicom
import pytest
from pydicom.encaps import encapsulate, generate_frames
from pydicom.sequence import Sequence
from pydicom.uid import JPEGLSLossless

from dcmview.api import Api, ApiRequest, ApiResponse
from dcmview.core import decoding
from dcmview.core.cache import ByteLRU
from dcmview.core.discovery import scan
from dcmview.core.errors import PixelDecodeFailed, is_lasting
from dcmview.core.session import Session

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


def _study(*paths: Path) -> tuple[Session, Api]:
    study = Session([str(p) for p in paths])
    study.scan()
    return study, Api(study)


def _get(api: Api, path: str) -> ApiResponse:
    return api.handle(ApiRequest("GET", path))


@pytest.fixture(autouse=True)
def _no_workers() -> Iterator[None]:
    yield
    decoding.shutdown()


# -- a folder nested ~1,100 deep ---------------------------------------------------------------
def test_scan_reads_a_folder_nested_1100_deep(tmp_path: Path) -> None:
    gen.write_ct_series(tmp_path, count=1, size=16)
    deep = str(tmp_path)
    for _ in range(1100):  # one level at a time: os.makedirs and Path.mkdir recurse too
        deep += "/d"
        os.mkdir(deep)
    try:
        gen.write_ct_series(deep, count=1, size=16)
        records, entries, scanned = scan([str(tmp_path)])
        assert scanned == 2
        assert [r.path for r in records if "/d/d/" in r.path] == [f"{deep}/slice_001.dcm"]
        assert entries == []
    finally:
        _remove_deep(deep, str(tmp_path))


def _remove_deep(deepest: str, top: str) -> None:
    """Remove a deep chain of folders bottom up (shutil.rmtree, as pytest's clean-up uses it,
    recurses and fails on it)."""
    folder = deepest
    while folder != top:
        for name in os.listdir(folder):
            os.remove(os.path.join(folder, name))
        os.rmdir(folder)
        folder = os.path.dirname(folder)


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


# -- a damaged frame is decoded once per session -----------------------------------------------
def _damaged_jpeg_ls(folder: Path) -> Path:
    """A JPEG-LS file whose scan data is damaged (every 7th byte flipped): its decoder fails."""
    written = gen.write_syntax(folder, JPEGLSLossless, kind="grey16", name="damaged_jls.dcm")
    ds = pydicom.dcmread(written.path)
    frame = bytearray(next(generate_frames(ds.PixelData, number_of_frames=1)))
    for at in range(40, len(frame) - 2, 7):
        frame[at] ^= 0x5A
    ds.PixelData = encapsulate([bytes(frame)], has_bot=True)
    ds["PixelData"].is_undefined_length = True
    ds.save_as(written.path)
    return written.path


@pytest.fixture
def decode_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every frame decode the session starts (in this process or a worker), as (file, frame)."""
    calls: list[tuple[str, int]] = []
    real = decoding.decode

    def counted(record: Any, frame: int) -> Any:
        calls.append((os.path.basename(record.path), frame))
        return real(record, frame)

    monkeypatch.setattr(decoding, "decode", counted)
    return calls


@pytest.mark.parametrize("write", [_damaged_jpeg_ls, malformed.rle_overrun], ids=["jls", "rle"])
def test_a_damaged_frame_is_decoded_once_and_answers_the_same_422_after(
    tmp_path: Path, write: Callable[[Path], Path], decode_calls: list[tuple[str, int]]
) -> None:
    path = write(tmp_path)
    _, api = _study(tmp_path)
    replies = [_get(api, route) for route in ["api/file/0/frame/0/raw"] * 3]
    full_dynamic = ApiRequest("GET", "api/file/0/frame/0", {"mode": "full_dynamic"})
    replies += [_get(api, "api/file/0/frame/0"), api.handle(full_dynamic)]
    assert decode_calls == [(path.name, 0)]
    assert {(r.status, r.body) for r in replies} == {(422, replies[0].body)}
    assert replies[0].json()["code"] == "pixel_decode_failed"


def test_failures_that_may_pass_are_computed_again() -> None:
    cache: ByteLRU[bytes] = ByteLRU(100, is_lasting)
    calls: list[int] = []

    def busy() -> bytes:
        calls.append(1)
        raise TimeoutError("busy")

    for _ in range(2):
        with pytest.raises(TimeoutError):
            cache.get_or_compute("k", busy, len)
    assert len(calls) == 2 and not cache.known("k")


def test_a_remembered_failure_is_raised_afresh_to_each_caller() -> None:
    cache: ByteLRU[bytes] = ByteLRU(100, is_lasting)

    def broken() -> bytes:
        raise PixelDecodeFailed("frame 0 could not be decoded: damaged")

    raised = []
    for _ in range(3):
        with pytest.raises(PixelDecodeFailed, match="damaged") as info:
            cache.get_or_compute("k", broken, len)
        raised.append(info.value)
    assert cache.known("k") and not cache.adopt("k", Future(), len)
    assert len({id(e) for e in raised}) == 3


# -- empty or malformed LUTs -------------------------------------------------------------------
def _break_voi_lut(ds: pydicom.Dataset, how: str) -> None:
    if how == "empty_data":
        ds.VOILUTSequence[0].LUTData = b""
    elif how == "empty_sequence":
        ds.VOILUTSequence = Sequence([])
    else:
        ds.VOILUTSequence[0].LUTDescriptor = None


@pytest.mark.parametrize("how", ["empty_data", "empty_sequence", "no_descriptor"])
def test_an_unusable_voi_lut_falls_back_to_the_percentile_window(tmp_path: Path, how: str) -> None:
    written = gen.write_voi_lut_only(tmp_path, name="broken_lut.dcm")
    reference = gen.write_image(tmp_path / "plain.dcm", written.pixels, bits_stored=12)
    ds = pydicom.dcmread(written.path)
    _break_voi_lut(ds, how)
    ds.save_as(written.path)
    study, api = _study(written.path, reference)
    replies = {
        os.path.basename(study.files[i].path): _get(api, f"api/file/{i}/frame/0") for i in (0, 1)
    }
    broken, plain = replies["broken_lut.dcm"], replies["plain.dcm"]
    assert broken.status == 200, broken.body
    assert broken.headers["X-Frame-Window-Applied"] == "linear"
    assert broken.body == plain.body  # the same pixels with the same percentile window
    for name in ("X-Frame-Window-Center", "X-Frame-Window-Width"):
        assert broken.headers[name] == plain.headers[name]


@pytest.mark.parametrize("how", ["empty_data", "empty_sequence"])
def test_an_unusable_modality_lut_answers_422(tmp_path: Path, how: str) -> None:
    written = gen.write_modality_lut(tmp_path)
    ds = pydicom.dcmread(written.path)
    if how == "empty_data":
        ds.ModalityLUTSequence[0].LUTData = b""
    else:
        ds.ModalityLUTSequence = Sequence([])
    ds.save_as(written.path)
    _, api = _study(written.path)
    reply = _get(api, "api/file/0/frame/0")
    assert (reply.status, reply.json()["code"]) == (422, "pixel_decode_failed")
    assert "LUT" in reply.json()["error"]
