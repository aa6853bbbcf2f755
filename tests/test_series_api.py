"""``GET /api/series`` (SPEC §9) and per-frame functional groups in ``/raw`` and display PNGs,
through the real server; ``handle.series()`` and ``viewer.series`` give the same list."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import generate_uid

import dcmview

from . import dicomgen as gen
from . import test_api_contract as contract
from .harness import DcmviewProcess
from .test_api_contract import _linear, _png
from .test_widget_protocol import Captured

SERIES_KEYS = {
    "id",
    "study_instance_uid",
    "series_instance_uid",
    "series_number",
    "series_description",
    "modality",
    "frame_of_reference_uids",
    "stacks",
}
STACK_KEYS = {"id", "kind", "rows", "columns", "frames"}
FRAME_KEYS = {
    "virtual_index",
    "file_index",
    "frame_index",
    "sop_instance_uid",
    "instance_number",
    "position_along_normal_mm",
}
# The fixture that finds a file's index by name, on this module's server.
index_of = contract.index_of
PER_FRAME_RESCALES = [(1.0, -1024.0), (2.0, -1000.0), (0.5, 10.0)]
PER_FRAME_WINDOWS = [(40.0, 400.0), (-600.0, 1500.0), (300.0, 1500.0)]


def _enhanced_ct() -> Path:
    return next(p for p in gen.pydicom_data_files() if p.name == "eCT_Supplemental.dcm")


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("series_api")
    (root / "ct").mkdir()
    frame_of_reference = generate_uid()
    gen.write_ct_series(root / "ct", count=4, extra={"FrameOfReferenceUID": frame_of_reference})
    gen.write_multiframe(root, frames=3, rows=16, columns=16, name="cine.dcm")
    gen.write_enhanced_ct(
        root,
        positions=[(0, 0, 2.0), (0, 0, 0.0), (0, 0, 1.0)],
        rescales=PER_FRAME_RESCALES,
        windows=PER_FRAME_WINDOWS,
        name="per_frame.dcm",
    )
    gen.write_no_pixels(root)
    return root


@pytest.fixture(scope="module")
def server(study_dir: Path):
    with DcmviewProcess("--port", "0", str(study_dir), str(_enhanced_ct())) as proc:
        proc.wait_scan()
        yield proc


def test_series_has_exactly_the_contract_fields(server: DcmviewProcess) -> None:
    reply = server.get("api/series")
    assert reply.status == 200
    assert reply.header("Content-Type") == "application/json; charset=utf-8"
    body = reply.json()
    assert set(body) == {"series", "scan_complete"} and body["scan_complete"] is True
    assert body["series"]
    for series in body["series"]:
        assert set(series) == SERIES_KEYS
        for stack in series["stacks"]:
            assert set(stack) == STACK_KEYS and stack["kind"] in ("ordinary", "multiframe")
            for frame in stack["frames"]:
                assert set(frame) == FRAME_KEYS


def test_series_needs_the_token(server: DcmviewProcess) -> None:
    assert server.get("api/series", token=False).status == 401


def test_series_cover_every_frame_of_the_files_once(server: DcmviewProcess) -> None:
    files = server.get("api/files").json()["files"]
    series = server.get("api/series").json()["series"]
    listed = sorted(
        (f["file_index"], f["frame_index"])
        for s in series
        for st in s["stacks"]
        for f in st["frames"]
    )
    expected = [(f["index"], i) for f in files if f["has_pixels"] for i in range(f["frame_count"])]
    assert listed == expected


def test_ct_series_is_one_stack_with_positions(server: DcmviewProcess, index_of) -> None:
    series = server.get("api/series").json()["series"]
    ct = next(s for s in series if s["modality"] == "CT" and len(s["stacks"][0]["frames"]) == 4)
    (stack,) = ct["stacks"]
    assert stack["kind"] == "ordinary" and (stack["rows"], stack["columns"]) == (64, 64)
    names = [f"slice_{i:03d}.dcm" for i in range(1, 5)]
    assert [f["file_index"] for f in stack["frames"]] == [index_of(n) for n in names]
    assert [f["position_along_normal_mm"] for f in stack["frames"]] == [0.0, 2.5, 5.0, 7.5]
    assert [f["instance_number"] for f in stack["frames"]] == [1, 2, 3, 4]
    assert len(ct["frame_of_reference_uids"]) == 1


# -- enhanced multi-frame: functional groups per frame --------------------------------------
def test_enhanced_ct_raw_carries_its_functional_group_rescale_and_window(
    server: DcmviewProcess, index_of
) -> None:
    i = index_of("eCT_Supplemental.dcm")
    for frame in (0, 1):
        reply = server.get(f"api/file/{i}/frame/{frame}/raw")
        assert reply.status == 200
        assert reply.header("X-Frame-Rescale-Slope") == "1"
        assert reply.header("X-Frame-Rescale-Intercept") == "-1024"
        assert (reply.header("X-Frame-Default-Wc"), reply.header("X-Frame-Default-Ww")) == (
            "49",
            "102",
        )
    summary = server.get("api/files").json()["files"][i]
    assert summary["default_window"] == {"center": 49.0, "width": 102.0}


def test_enhanced_ct_is_windowed_in_modality_units(server: DcmviewProcess, index_of) -> None:
    i = index_of("eCT_Supplemental.dcm")
    ds = pydicom.dcmread(_enhanced_ct())
    for frame in (0, 1):
        reply = server.get(f"api/file/{i}/frame/{frame}")
        shown = _png(reply)
        assert reply.header("X-Frame-Window-Applied") == "linear"
        assert (reply.header("X-Frame-Window-Center"), reply.header("X-Frame-Window-Width")) == (
            "49",
            "102",
        )
        hu = ds.pixel_array[frame].astype(np.float64) - 1024.0
        assert np.abs(shown.astype(int) - _linear(hu, 49.0, 102.0).astype(int)).max() <= 1


def test_per_frame_rescale_and_window_apply_to_their_frame(
    server: DcmviewProcess, index_of
) -> None:
    i = index_of("per_frame.dcm")
    stored = pydicom.dcmread(server.get("api/files").json()["files"][i]["path"]).pixel_array
    for frame, ((slope, intercept), (center, width)) in enumerate(
        zip(PER_FRAME_RESCALES, PER_FRAME_WINDOWS, strict=True)
    ):
        raw = server.get(f"api/file/{i}/frame/{frame}/raw")
        assert float(raw.header("X-Frame-Rescale-Slope")) == slope
        assert float(raw.header("X-Frame-Rescale-Intercept")) == intercept
        assert float(raw.header("X-Frame-Default-Wc")) == center
        assert float(raw.header("X-Frame-Default-Ww")) == width
        reply = server.get(f"api/file/{i}/frame/{frame}")
        shown = _png(reply)
        assert float(reply.header("X-Frame-Window-Center")) == center
        values = stored[frame].astype(np.float64) * slope + intercept
        assert np.abs(shown.astype(int) - _linear(values, center, width).astype(int)).max() <= 1


def test_per_frame_stack_is_ordered_by_plane_position(server: DcmviewProcess, index_of) -> None:
    i = index_of("per_frame.dcm")
    series = server.get("api/series").json()["series"]
    (stack,) = [st for s in series for st in s["stacks"] if st["frames"][0]["file_index"] == i]
    assert stack["kind"] == "multiframe"
    assert [f["frame_index"] for f in stack["frames"]] == [1, 2, 0]
    assert [f["position_along_normal_mm"] for f in stack["frames"]] == [0.0, 1.0, 2.0]


# -- Python surfaces ------------------------------------------------------------------------
def test_handle_series_is_the_api_list(study_dir: Path) -> None:
    with dcmview.view([study_dir], browser=False, block=False) as handle:
        request = urllib.request.Request(
            handle.url.split("#")[0] + "api/series",
            headers={"Authorization": f"Bearer {handle.token}"},
        )
        for _ in range(500):
            with urllib.request.urlopen(request, timeout=10) as resp:
                body = json.loads(resp.read())
            if body["scan_complete"]:
                break
            time.sleep(0.01)
        assert body["scan_complete"] and body["series"]
        assert handle.series() == body["series"]


def test_viewer_series_is_the_api_list(study_dir: Path) -> None:
    viewer = dcmview.Viewer([study_dir])
    status, _, body = Captured(viewer).answer(viewer, "api/series")
    assert status == 200
    assert viewer.series == json.loads(body)["series"]
    assert len(viewer.series) == 3  # CT, cine, per-frame enhanced (the SR has no pixels)
