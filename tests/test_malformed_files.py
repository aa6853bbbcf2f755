"""Malformed DICOM files (tests/malformed.py) never stop, crash or bloat the server.

One server reads a folder holding every kind of damage next to one valid file: it starts, lists or
skips each file with a reason, answers the tag tree of every file it lists, refuses broken frames
with a JSON 4xx (never a 500, never a traceback) and grows by less than 100 MB doing all that.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from pydicom.encaps import get_frame

from dcmview.core.codestream import declared_shape
from dcmview.core.discovery import read_record

from . import dicomgen as gen
from . import malformed
from .harness import DcmviewProcess, rss_bytes

RSS_GROWTH_LIMIT = 100 * 1024 * 1024
REFUSED = ("pixel_decode_failed", "frame_too_large")


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("malformed")
    paths = {case.id: case.write(root) for case in malformed.CASES}
    gen.write_ct_series(root, count=1)
    return paths


@pytest.fixture(scope="module")
def server(written: dict[str, Path], tmp_path_factory: pytest.TempPathFactory):
    folder = next(iter(written.values())).parent
    cache = {"XDG_CACHE_HOME": str(tmp_path_factory.mktemp("cache"))}
    with DcmviewProcess("--port", "0", str(folder), env=cache) as proc:
        proc.wait_scan()
        yield proc


@pytest.fixture(scope="module")
def baseline_rss(server: DcmviewProcess) -> int:
    return rss_bytes(server.proc.pid)


@pytest.fixture(scope="module")
def listing(server: DcmviewProcess, baseline_rss: int) -> dict:
    """The listing; asking for it first fixes the memory baseline before any frame request."""
    return server.get("api/files").json()


def _listed(listing: dict, path: Path) -> dict | None:
    return next((f for f in listing["files"] if f["path"] == str(path)), None)


def _skipped(listing: dict, path: Path) -> dict | None:
    return next((e for e in listing["discovery"] if e["path"] == str(path)), None)


def test_server_starts_and_reports_what_it_skipped(server: DcmviewProcess, listing) -> None:
    assert server.proc.poll() is None
    loaded = server.wait_line("loaded", "DICOM file(s)")
    assert "skipped:" in loaded
    assert listing["scanned"] == len(listing["files"]) + len(listing["discovery"])
    assert any(f["path"].endswith("slice_001.dcm") for f in listing["files"])


@pytest.mark.parametrize("case", malformed.CASES, ids=lambda c: c.id)
def test_each_malformed_file_is_listed_or_skipped_with_a_reason(
    case: malformed.Case, written, listing
) -> None:
    path = written[case.id]
    listed, skipped = _listed(listing, path), _skipped(listing, path)
    assert (listed is None) != (skipped is None), "exactly one of listed or skipped"
    if case.listed is not None:
        assert (listed is not None) == case.listed
    if skipped is not None:
        assert skipped["disposition"] == "skipped"
        assert skipped["reason"].strip() and "Traceback" not in skipped["reason"]


@pytest.mark.parametrize(
    "case", [c for c in malformed.CASES if c.listed is not False], ids=lambda c: c.id
)
def test_listed_malformed_files_answer_tags_and_refuse_broken_frames(
    case: malformed.Case, written, listing, server: DcmviewProcess
) -> None:
    summary = _listed(listing, written[case.id])
    if summary is None:
        pytest.skip("this platform refused the 4 GiB read: skipped at discovery, as allowed")
    i = summary["index"]
    info = server.get(f"api/file/{i}/info")
    assert info.status == 200
    tags = server.get(f"api/file/{i}/tags")
    assert tags.status == 200 and isinstance(tags.json(), list) and tags.json()
    for suffix in ("", "/raw"):
        reply = server.get(f"api/file/{i}/frame/0{suffix}")
        assert reply.status == case.frames, reply.body[:300]
        if case.frames == 422:
            body = reply.json()
            assert body["code"] in REFUSED
            assert "Traceback" not in body["error"] and "/" not in body["error"]
        elif case.frames == 404:
            assert reply.json()["code"] == "no_pixel_data"


def test_codestream_bombs_are_refused_before_decoding(written, listing, server) -> None:
    for case_id in ("bomb_j2k_codestream", "bomb_jpeg_codestream"):
        summary = _listed(listing, written[case_id])
        assert summary is not None
        error = server.get(f"api/file/{summary['index']}/frame/0/raw").json()["error"]
        assert "8000x8000" in error and "not decoded" in error


def test_header_bombs_name_the_decode_limit(written, listing, server) -> None:
    for case_id in ("bomb_rle", "bomb_j2k"):
        summary = _listed(listing, written[case_id])
        assert summary is not None and summary["frame_count"] == 1000
        body = server.get(f"api/file/{summary['index']}/frame/999").json()
        assert body["code"] == "frame_too_large" and "65535x65535" in body["error"]


def test_deep_sequences_are_cut_in_the_tag_tree(written, listing, server) -> None:
    summary = _listed(listing, written["nested_120"])
    assert summary is not None
    tags = server.get(f"api/file/{summary['index']}/tags").json()
    node = next(t for t in tags if t["keyword"] == "ContentSequence")
    depth = 0
    while node["value"].get("items"):
        node = next(t for t in node["value"]["items"][0] if t["keyword"] == "ContentSequence")
        depth += 1
    assert node["value"].get("truncated") is True and 1 <= depth <= 16


def test_bogus_frame_counts_do_not_reach_the_listing(written, listing) -> None:
    for case_id in ("frames_0", "frames_minus_1", "frames_abc", "frames_2_31"):
        summary = _listed(listing, written[case_id])
        assert summary is not None and summary["has_pixels"] is True
        assert summary["frame_count"] == 0


def test_memory_stays_bounded_and_no_traceback(
    server: DcmviewProcess, listing, baseline_rss: int
) -> None:
    for _ in range(2):
        for f in listing["files"]:
            i = f["index"]
            for path in (
                f"api/file/{i}/info",
                f"api/file/{i}/tags",
                f"api/file/{i}/frame/0",
                f"api/file/{i}/frame/0/raw",
                f"api/file/{i}/frame/{max(f['frame_count'] - 1, 0)}/raw",
                f"api/file/{i}/annotations",
            ):
                assert server.get(path).status < 500, path
    assert server.get("api/health").json()["status"] == "ok"
    growth = rss_bytes(server.proc.pid) - baseline_rss
    assert growth < RSS_GROWTH_LIMIT, f"RSS grew by {growth / 2**20:.0f} MiB"
    assert "Traceback" not in server.output and "Uncaught exception" not in server.output


# -- the codestream reader on its own ------------------------------------------------------------
ENCAPSULATED = [
    c
    for c in gen.TRANSFER_SYNTAX_CASES
    if c.available and c.uid.is_compressed and c.uid != "1.2.840.10008.1.2.5"
]


def _frames(path: Path) -> tuple[tuple[int, int], list[bytes]]:
    """The header's (rows, columns) and every encoded frame of an encapsulated file."""
    record, _, problem = read_record(str(path))
    assert record is not None and record.layout is not None, problem
    assert record.pixel_data_offset is not None
    layout, frames = record.layout, []
    with open(path, "rb") as fp:
        for index in range(layout.frame_count):
            fp.seek(record.pixel_data_offset)
            frames.append(get_frame(fp, index, number_of_frames=layout.frame_count))
    return (layout.rows, layout.columns), frames


@pytest.mark.parametrize("case", ENCAPSULATED, ids=lambda c: c.id)
def test_codestream_size_matches_the_header_of_valid_files(case, tmp_path: Path) -> None:
    shape, frames = _frames(case.write(tmp_path).path)
    assert frames and all(declared_shape(frame) == shape for frame in frames)


def test_codestream_reader_survives_damaged_headers(tmp_path: Path) -> None:
    seeds = []
    for case in ENCAPSULATED:
        seeds.extend(f[:512] for f in _frames(case.write(tmp_path).path)[1])
    rng = random.Random(11)
    for _ in range(3000):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        data = data[: rng.randrange(len(data) + 1)]
        shape = declared_shape(bytes(data))
        assert shape is None or (
            isinstance(shape, tuple) and all(isinstance(v, int) and v >= 0 for v in shape)
        )
