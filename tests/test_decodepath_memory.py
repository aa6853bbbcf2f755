"""Decompression bombs inside the frame limit cost a bounded amount of memory (issue 18).

The whole way of a frame is budgeted (dcmview/core/budget.py): a display image whose working
memory would pass the limit is refused before anything is decoded, decodes in flight share one
byte budget, and large frames are windowed and compressed a block at a time. bench/bombs.py
measures the server's peak RSS on real bombs; here the same rules are checked on real files and
with tracemalloc (numpy reports its arrays to it), never with a clock.
"""

from __future__ import annotations

import dataclasses
import struct
import threading
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from pydicom.uid import ExplicitVRLittleEndian, JPEG2000Lossless, RLELossless

from dcmview.api import Api, ApiRequest
from dcmview.core import allocator, budget, windowing
from dcmview.core.budget import ByteBudget, check_display, check_raw
from dcmview.core.discovery import read_record
from dcmview.core.errors import FrameTooLarge
from dcmview.core.model import FileRecord, WindowRequest
from dcmview.core.render import display_frame
from dcmview.core.session import Session
from dcmview.core.windowing import Modality, VoiLut

from . import dicomgen as gen
from .malformed import _replace_short_element

MIB = 1024 * 1024


def _declaring(path: Path, rows: int, columns: int) -> Path:
    """The file at ``path`` with its header declaring ``rows`` x ``columns`` (data unchanged)."""
    data = path.read_bytes()
    for element, value in ((0x0010, rows), (0x0011, columns)):
        data = _replace_short_element(data, 0x0028, element, "US", struct.pack("<H", value))
    path.write_bytes(data)
    return path


def _record(path: Path) -> FileRecord:
    record, _, problem = read_record(str(path))
    assert record is not None, problem
    return record


# -- refused before decoding -------------------------------------------------------------------
def test_a_display_image_too_large_to_make_answers_422_before_decoding(tmp_path: Path) -> None:
    """An 8-bit palette frame of 8192 x 12288 is 96 MiB, inside the frame limit, but its colour
    image takes 24 bytes a pixel on the way (2.3 GiB): refused, naming the limit; /raw is not."""
    written = gen.write_palette(tmp_path, transfer_syntax=RLELossless, name="palette_bomb.dcm")
    _declaring(written.path, 8192, 12288)
    study = Session([str(tmp_path)])
    study.scan()
    api = Api(study)
    reply = api.handle(ApiRequest("GET", "api/file/0/frame/0"))
    assert reply.status == 422
    body = reply.json()
    assert body["code"] == "frame_too_large"
    assert "8192x12288" in body["error"] and "MiB" in body["error"] and "/raw" in body["error"]
    raw = api.handle(ApiRequest("GET", "api/file/0/frame/0/raw"))
    assert raw.json()["code"] != "frame_too_large"  # the raw samples are within budget


@pytest.mark.parametrize("syntax", [RLELossless, JPEG2000Lossless], ids=["rle", "j2k"])
def test_a_frame_whose_decoding_would_pass_the_limit_answers_422_before_decoding(
    tmp_path: Path, syntax: str
) -> None:
    """16384² 16-bit is inside the 512 MiB frame limit, but these decoders take 5-6 times the
    frame: refused before decoding, both as /raw and as a PNG, naming the memory needed."""
    written = gen.write_syntax(tmp_path, syntax, kind="grey16", name="grey_bomb.dcm")
    _declaring(written.path, 16384, 16384)
    study = Session([str(tmp_path)])
    study.scan()
    api = Api(study)
    for path in ("api/file/0/frame/0/raw", "api/file/0/frame/0"):
        body = api.handle(ApiRequest("GET", path)).json()
        assert body["code"] == "frame_too_large", path
        assert "16384x16384" in body["error"] and "MiB of memory" in body["error"]


def test_frames_the_budget_lets_through(tmp_path: Path) -> None:
    rle = gen.write_syntax(tmp_path, RLELossless, kind="grey16", name="rle.dcm")
    record = _record(_declaring(rle.path, 8192, 8192))
    check_raw(record, in_worker=False)  # 704 MiB: no FrameTooLarge
    check_display(record)
    native = gen.write_image(tmp_path / "native.dcm", gen.phantom(8, 8))
    big_native = dataclasses.replace(
        _record(native),
        layout=dataclasses.replace(_record(native).layout, rows=16384, columns=16384),
    )
    check_raw(big_native, in_worker=False)  # the largest uncompressed frame: 1 GiB
    check_display(big_native)


def test_a_modality_lut_frame_costs_its_whole_frame_values(tmp_path: Path) -> None:
    """Without a histogram of stored values the percentile window reads whole-frame float32
    values: such a 16384² frame is refused, its twin without a LUT is not."""
    lut = gen.write_modality_lut(tmp_path, transfer_syntax=RLELossless)
    with pytest.raises(FrameTooLarge):
        check_display(_record(_declaring(lut.path, 16384, 16384)))
    plain = gen.write_image(
        tmp_path / "plain.dcm", lut.pixels, bits_stored=12, transfer_syntax=RLELossless
    )
    check_display(_record(_declaring(plain, 16384, 16384)))


# -- decodes in flight share one byte budget ---------------------------------------------------
def _hold(limit: ByteBudget, nbytes: int, entered: threading.Event, leave: threading.Event):
    def run() -> None:
        with limit.reserve(nbytes):
            entered.set()
            leave.wait(30)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _wait_until(condition, what: str) -> None:
    done = threading.Event()
    for _ in range(3000):
        if condition():
            return
        done.wait(0.01)
    pytest.fail(f"never: {what}")


def test_work_that_would_pass_the_budget_waits_for_the_bytes() -> None:
    limit = ByteBudget(100)
    first_in, first_out = threading.Event(), threading.Event()
    second_in, second_out = threading.Event(), threading.Event()
    first = _hold(limit, 60, first_in, first_out)
    first_in.wait(30)
    second = _hold(limit, 60, second_in, second_out)
    _wait_until(lambda: limit.waiting == 1, "the second reservation waits")
    assert not second_in.is_set() and limit.used == 60
    with limit.reserve(40):  # what still fits goes ahead
        assert limit.used == 100
    first_out.set()
    assert second_in.wait(30) and limit.used == 60
    second_out.set()
    for thread in (first, second):
        thread.join(30)
    assert limit.used == 0


def test_work_larger_than_the_budget_runs_alone_and_nested_reservations_are_covered() -> None:
    limit = ByteBudget(100)
    with limit.reserve(500):
        assert limit.used == 500
        with limit.reserve(500):  # the same thread: its outer reservation covers this
            assert limit.used == 500
    assert limit.used == 0


def test_freed_memory_is_handed_back_when_frame_work_goes_quiet() -> None:
    handed_back: list[int] = []
    limit = ByteBudget(100, lambda: handed_back.append(limit.used), quiet_after=50)
    with limit.reserve(30):
        pass
    assert handed_back == []  # not enough work since the last time
    entered, leave = threading.Event(), threading.Event()
    other = _hold(limit, 10, entered, leave)
    entered.wait(30)
    with limit.reserve(30):
        pass
    assert handed_back == []  # work still in flight elsewhere
    leave.set()
    other.join(30)
    assert handed_back == [0]
    assert allocator.release_free_memory()  # glibc here: malloc_trim is there


def test_the_process_budget_is_released_after_each_frame(tmp_path: Path) -> None:
    gen.write_syntax(tmp_path, RLELossless, kind="grey16", frames=3, name="rle.dcm")
    study = Session([str(tmp_path)])
    study.scan()
    api = Api(study)
    for path in ("api/file/0/frame/1/raw", "api/file/0/frame/2"):
        assert api.handle(ApiRequest("GET", path)).status == 200
    assert budget.IN_FLIGHT.used == 0


# -- large frames are windowed a block at a time -----------------------------------------------
@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 1,000 pixels, so that small test frames span many blocks."""
    monkeypatch.setattr(windowing, "BLOCK_PIXELS", 1000)


@pytest.mark.parametrize("dtype", [np.uint16, np.int16])
def test_block_wise_passes_equal_whole_frame_ones(small_blocks: None, dtype) -> None:
    stored = gen.phantom(97, 61, dtype=dtype, bits_stored=12)
    lut = VoiLut(first_mapped=-100, bits=16, data=np.linspace(0, 9000, 5000).astype(np.float32))
    for modality in (Modality(0.5, -100.0), Modality(-2.0, 7.0), Modality(lut=lut)):
        whole = np.asarray(
            stored.astype(np.float32) * np.float32(modality.slope) + np.float32(modality.intercept)
            if modality.lut is None
            else lut.data[np.clip(stored.astype(np.int64) + 100, 0, 4999)]
        )
        assert np.array_equal(modality(stored), whole)
        assert windowing.full_dynamic_window(stored, modality) == windowing.full_dynamic_window(
            whole
        )
        choice = windowing.WindowChoice("linear", windowing.Window(300, 900))
        assert np.array_equal(
            windowing.to_display(stored, choice, True, modality),
            windowing.to_display(whole, choice, True),
        )
    padding = (int(stored.min()), int(stored.min()) + 3)
    blockwise = windowing.percentile_window(None, padding, stored, rescale=(0.5, -100.0))
    keep = (stored < padding[0]) | (stored > padding[1])
    p1, p99 = np.percentile(stored[keep].astype(np.float64) * 0.5 - 100.0, [1, 99])
    assert blockwise.center == pytest.approx((p1 + p99) / 2, abs=1e-9)
    rgb = (gen.colour_phantom(53, 41).astype(np.uint16) * 16) | 3
    assert np.array_equal(windowing.colour_to_uint8(rgb, 12), (rgb >> 4).astype(np.uint8))


def test_a_display_image_takes_a_fraction_of_its_frame_in_working_memory(tmp_path: Path) -> None:
    """A 4096 x 3072 16-bit frame (24 MiB): its PNG used to take float32 values (48 MiB), an
    int64 copy for the histogram (96 MiB) and a filtered copy for the PNG (12 MiB) on top."""
    pixels = gen.phantom(4096, 3072, bits_stored=12)
    path = gen.write_image(
        tmp_path / "large.dcm", pixels, transfer_syntax=ExplicitVRLittleEndian, bits_stored=12
    )
    record = _record(path)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        display_frame(record, pixels, lambda: None, WindowRequest(), 0)  # percentile window
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    eight_bit = pixels.size  # the windowed image itself
    assert peak < eight_bit + 40 * MIB, f"{peak / MIB:.0f} MiB"


# -- the cache budget bounds what it names -----------------------------------------------------
def test_cached_entries_count_at_least_the_memory_they_take(tmp_path: Path) -> None:
    """Tiny frames: the bytes around a body (headers, tuples, links) are most of an entry."""
    gen.write_multiframe(tmp_path, frames=300, rows=8, columns=8, name="tiny.dcm")
    study = Session([str(tmp_path)], cache_budget=64 * MIB)
    study.scan()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for frame in range(300):
            study.raw(0, frame)
            study.display(0, frame, WindowRequest())
        taken = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    counted = study.raw_cache.used + study.display_cache.used
    assert len(study.raw_cache) == len(study.display_cache) == 300
    assert taken <= counted, f"{taken} bytes taken, {counted} counted"


def test_parsed_headers_are_kept_within_their_byte_limit(tmp_path: Path) -> None:
    """Ten files whose headers hold a 4 MiB element: the header LRU keeps what fits in its
    limit, not sixteen of them."""
    import pydicom

    for n in range(10):
        path = gen.write_image(tmp_path / f"big_header_{n}.dcm", gen.phantom(8, 8))
        ds = pydicom.dcmread(path)
        ds.private_block(0x0009, "DCMVIEW TEST", create=True).add_new(0x01, "OB", bytes(4 * MIB))
        ds.save_as(path)
    study = Session([str(tmp_path)])
    study.scan()
    tracemalloc.start()
    try:
        for index in range(10):
            study.tags(index)
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert held < 20 * MIB, f"{held / MIB:.0f} MiB held"


def test_a_server_settles_within_its_cache_budget(tmp_path: Path) -> None:
    """After every frame of 300 (as /raw and PNG), the server has grown by its budget and a
    little more (the decoders it imported), not by what the allocator kept of freed frames."""
    from .harness import DcmviewProcess, rss_bytes

    gen.write_multiframe(tmp_path, frames=200, name="native.dcm")
    gen.write_multiframe(tmp_path, frames=100, name="rle.dcm", transfer_syntax=RLELossless)
    cache_budget = 32 * MIB
    with DcmviewProcess("--port", "0", "--cache-budget", "32MiB", str(tmp_path)) as server:
        server.wait_scan()
        files = server.get("api/files").json()["files"]
        start = rss_bytes(server.proc.pid)
        for f in files:
            for frame in range(f["frame_count"]):
                for suffix in ("/raw", ""):
                    reply = server.get(f"api/file/{f['index']}/frame/{frame}{suffix}")
                    assert reply.status == 200
        grown = rss_bytes(server.proc.pid) - start
    assert grown < cache_budget + 24 * MIB, f"grew {grown / MIB:.0f} MiB"


def test_readme_memory_section_states_the_limits_the_code_has() -> None:
    from dcmview.core.session import DEFAULT_DISPLAY_BUDGET, DEFAULT_RAW_BUDGET, HEADER_CACHE_BYTES

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("## Memory", 1)[1].split("\n## ", 1)[0]
    total = (DEFAULT_DISPLAY_BUDGET + DEFAULT_RAW_BUDGET) // MIB
    assert f"default {total} MiB: {DEFAULT_DISPLAY_BUDGET // MIB} MiB of display" in section
    assert f"{DEFAULT_RAW_BUDGET // MIB} MiB of raw" in section
    assert f"at most {HEADER_CACHE_BYTES // MIB} MiB" in section
    assert f"at most {budget.IN_FLIGHT_BYTES // (1024 * MIB)} GiB at once" in section
    assert f"need more than {budget.MAX_PIPELINE_BYTES // MIB} MiB" in readme
