"""The generated demo study behind ``dcmview --demo``."""

from __future__ import annotations

import csv
import json
import os
import time
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.pixels import apply_modality_lut
from pydicom.uid import RLELossless

from dcmview import demo
from dcmview.demo import ANNOTATIONS_NAME, MARKER_NAME, DemoStudy, demo_study


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> DemoStudy:
    return demo_study(tmp_path_factory.mktemp("cache") / "demo")


def read(study: DemoStudy, relative: str) -> pydicom.Dataset:
    return pydicom.dcmread(study.root / relative)


def csv_rows(study: DemoStudy) -> list[dict[str, str]]:
    with open(study.annotations, newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def fast_content(folder: Path, report) -> None:
    (folder / "ct").mkdir()
    (folder / "ct" / "ct_001.dcm").write_bytes(b"x")
    (folder / ANNOTATIONS_NAME).write_text("anon_dicom_path,ROI_coords\n")


def test_ct_series_is_40_axial_slices_in_hu(study: DemoStudy) -> None:
    paths = sorted((study.root / "ct").glob("*.dcm"))
    assert len(paths) == 40
    datasets = [pydicom.dcmread(p, stop_before_pixels=True) for p in paths]
    assert {ds.PatientID for ds in datasets} == {"DEMO-CT"}
    assert {ds.Modality for ds in datasets} == {"CT"}
    assert len({ds.SeriesInstanceUID for ds in datasets}) == 1
    assert sorted(int(ds.InstanceNumber) for ds in datasets) == list(range(1, 41))
    ds = read(study, "ct/ct_010.dcm")
    assert (ds.Rows, ds.Columns, ds.PixelRepresentation) == (256, 256, 1)
    assert (float(ds.WindowCenter), float(ds.WindowWidth)) == (40.0, 400.0)
    hu = apply_modality_lut(ds.pixel_array, ds)
    assert hu.min() < -900  # air and lung
    assert hu.max() > 600  # bone
    assert np.median(hu[100:156, 100:156]) > -200  # soft tissue in the middle


def test_cine_is_one_rle_multiframe_file(study: DemoStudy) -> None:
    ds = read(study, "cine/cine.dcm")
    assert ds.file_meta.TransferSyntaxUID == RLELossless
    assert (ds.NumberOfFrames, ds.Rows, ds.Columns) == (72, 256, 256)
    assert ds.Modality == "XA" and ds.PhotometricInterpretation == "MONOCHROME2"
    frames = ds.pixel_array
    assert frames.shape == (72, 256, 256)
    assert not np.array_equal(frames[0], frames[6])  # it moves


def test_colour_image_is_rgb(study: DemoStudy) -> None:
    ds = read(study, "colour/ultrasound_rgb.dcm")
    assert (ds.PhotometricInterpretation, ds.SamplesPerPixel, ds.BitsAllocated) == ("RGB", 3, 8)
    assert ds.Modality == "US"
    rgb = ds.pixel_array
    assert rgb.shape == (ds.Rows, ds.Columns, 3)
    assert (rgb[..., 0].astype(int) - rgb[..., 2]).max() > 100  # red flow
    assert (rgb[..., 2].astype(int) - rgb[..., 0]).max() > 100  # blue flow


def test_mammogram_is_full_size_12_bit(study: DemoStudy) -> None:
    ds = read(study, "mg/mammo.dcm")
    assert (ds.Rows, ds.Columns, ds.BitsAllocated, ds.BitsStored) == (3000, 2500, 16, 12)
    assert ds.Modality == "MG" and ds.PhotometricInterpretation == "MONOCHROME2"
    assert "WindowCenter" in ds and "WindowWidth" in ds
    pixels = ds.pixel_array
    assert pixels.max() < 4096
    assert pixels[:, -10:].mean() < 200  # background beyond the breast
    assert pixels[1500, 100] > 1000  # tissue at the chest wall


def test_items_have_distinct_patients_and_studies(study: DemoStudy) -> None:
    files = [p for p in study.root.rglob("*.dcm")]
    datasets = [pydicom.dcmread(p, stop_before_pixels=True) for p in files]
    patients = {ds.PatientID: ds.StudyInstanceUID for ds in datasets}
    assert set(patients) == {"DEMO-CT", "DEMO-XA", "DEMO-US", "DEMO-MG"}
    assert len(set(patients.values())) == 4


def test_annotations_are_relative_and_inside_their_images(study: DemoStudy) -> None:
    assert study.annotations == study.root / ANNOTATIONS_NAME
    with open(study.annotations, newline="", encoding="utf-8") as stream:
        assert next(csv.reader(stream)) == [
            "anon_dicom_path",
            "num_ROI",
            "ROI_coords",
            "ROI_frames",
        ]
    rows = csv_rows(study)
    assert {row["anon_dicom_path"] for row in rows} == {"mg/mammo.dcm", "cine/cine.dcm"}
    for row in rows:
        assert not os.path.isabs(row["anon_dicom_path"])
        ds = pydicom.dcmread(study.root / row["anon_dicom_path"], stop_before_pixels=True)
        boxes = json.loads(row["ROI_coords"])
        frame_lists = json.loads(row["ROI_frames"]) or [[] for _ in boxes]
        assert int(row["num_ROI"]) == len(boxes) == len(frame_lists) > 0
        for ymin, xmin, ymax, xmax in boxes:
            assert 0 <= ymin < ymax <= ds.Rows
            assert 0 <= xmin < xmax <= ds.Columns
        frame_count = int(ds.get("NumberOfFrames", 1))
        assert all(0 <= f < frame_count for frames in frame_lists for f in frames)


def test_cine_rois_cover_some_frames_only(study: DemoStudy) -> None:
    (row,) = [r for r in csv_rows(study) if r["anon_dicom_path"] == "cine/cine.dcm"]
    frame_lists = json.loads(row["ROI_frames"])
    assert all(0 < len(frames) < 72 for frames in frame_lists)


def test_second_call_returns_without_rewriting(study: DemoStudy) -> None:
    before = {p: p.stat().st_mtime_ns for p in study.root.rglob("*")}
    messages: list[str] = []
    again = demo_study(study.root, progress=messages.append)
    assert again == study
    assert messages == []
    assert {p: p.stat().st_mtime_ns for p in study.root.rglob("*")} == before


def test_first_call_reports_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo, "_write_content", fast_content)
    messages: list[str] = []
    demo_study(tmp_path / "demo", progress=messages.append)
    assert messages and "ready" in messages[-1]


def test_default_directory_follows_xdg_cache_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert demo.default_directory() == tmp_path / "dcmview" / f"demo-{demo.DEMO_VERSION}"
    monkeypatch.setenv("XDG_CACHE_HOME", "")
    assert demo.default_directory().parent == Path.home() / ".cache" / "dcmview"


def test_default_call_uses_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(demo, "_write_content", fast_content)
    assert demo_study().root == tmp_path / "dcmview" / f"demo-{demo.DEMO_VERSION}"
    assert (demo_study().root / MARKER_NAME).is_file()


def test_crash_during_generation_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(folder: Path, report) -> None:
        (folder / "ct").mkdir()
        raise KeyboardInterrupt

    monkeypatch.setattr(demo, "_write_content", crash)
    with pytest.raises(KeyboardInterrupt):
        demo_study(tmp_path / "demo")
    assert list(tmp_path.iterdir()) == []


def test_leftover_staging_and_partial_root_do_not_break_next_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "demo"
    stale = tmp_path / ".demo.partial-dead"
    (stale / "ct").mkdir(parents=True)
    (stale / "ct" / "ct_001.dcm").write_bytes(b"half")
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    fresh = tmp_path / ".demo.partial-live"
    fresh.mkdir()
    (root / "ct").mkdir(parents=True)  # a demo folder without its completion marker
    monkeypatch.setattr(demo, "_write_content", fast_content)
    result = demo_study(root)
    assert (result.root / MARKER_NAME).is_file()
    assert (result.root / "ct" / "ct_001.dcm").read_bytes() == b"x"
    assert not stale.exists()  # a dead run's folder is cleaned up
    assert fresh.exists()  # a younger one may belong to a live run
    assert sorted(p.name for p in tmp_path.iterdir()) == [".demo.partial-live", "demo"]


def test_refuses_a_folder_that_is_not_a_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    monkeypatch.setattr(demo, "_write_content", fast_content)
    with pytest.raises(FileExistsError, match="not a dcmview demo"):
        demo_study(tmp_path)
    assert (tmp_path / "mine.txt").read_text() == "keep me"
    assert [p.name for p in tmp_path.parent.glob(f".{tmp_path.name}.partial-*")] == []


def test_demo_layers_lie_on_the_ct(study: DemoStudy) -> None:
    """The organ SEG attaches to the CT series with its three segments, and the NIfTI lesion
    prediction (given as an overlay) lands inside the liver of the slices it covers."""
    from dcmview.core.session import Session

    session = Session([str(p) for p in study.inputs], overlays=[str(p) for p in study.overlays])
    session.scan()
    try:
        store = session.layers()
        by_source = {layer["source"]: layer for layer in store.listing()}
        seg, nifti = by_source["seg"], by_source["nifti"]
        assert [label["name"] for label in seg["labels"]] == ["Liver", "Spleen", "Kidneys"]
        assert seg["problem"] is None and nifti["problem"] is None
        assert seg["stack_id"] == nifti["stack_id"]
        stack = store.stack(seg["stack_id"])
        assert nifti["matched_frames"] == len(stack.frames) == 40
        peaks = 0
        for virtual in range(len(stack.frames)):
            heat, organs = store.frame(nifti["id"], virtual), store.frame(seg["id"], virtual)
            if heat is None or organs is None:
                continue
            heat_map = np.frombuffer(heat.body, "<f4").reshape(heat.rows, heat.columns)
            labels = np.frombuffer(organs.body, np.uint8).reshape(organs.rows, organs.columns)
            if np.nanmax(heat_map) > 0.5:
                peak = np.unravel_index(np.nanargmax(heat_map), heat_map.shape)
                assert labels[peak] == 1  # the liver
                peaks += 1
        assert peaks >= 3
    finally:
        session.close()
