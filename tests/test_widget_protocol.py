"""The notebook widget's message protocol: requests in, responses (with binary parts) out."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

import dcmview
from dcmview.widget import MAX_PART_BYTES

from . import dicomgen as gen
from .transports import Captured


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("widget")
    gen.write_ct_series(root, count=2)
    gen.write_mammography(root)
    return root


@pytest.fixture(scope="module")
def viewer(folder: Path):
    return dcmview.Viewer([folder])


def test_files_and_traits(viewer) -> None:
    assert len(viewer.files) == 3
    assert {f["modality"] for f in viewer.files} == {"CT", "MG"}
    assert viewer.frame == 0 and viewer.file_index == 0 and viewer.tool == "wl"
    assert "3 DICOM file(s)" in repr(viewer)


def test_no_pixels_or_files_in_traitlets(viewer) -> None:
    state = viewer.get_state()
    small = {k: v for k, v in state.items() if k not in ("_esm", "_css")}
    assert len(json.dumps(small, default=str)) < 2000


def test_request_is_answered_by_the_api_router(viewer) -> None:
    cap = Captured(viewer)
    status, headers, body = cap.answer(viewer, "api/files")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    assert len(json.loads(body)["files"]) == 3
    status, headers, body = cap.answer(viewer, "api/file/0/frame/0?wc=40&ww=400", request_id=2)
    assert status == 200 and headers["X-Frame-Window-Center"] == "40"
    assert body[:8] == b"\x89PNG\r\n\x1a\n"


def test_requests_sent_together_are_each_answered(viewer) -> None:
    cap = Captured(viewer)
    paths = {11: "api/file/0/info", 12: "api/file/99/info", 13: "api/file/1/frame/0/raw"}
    viewer._on_message(
        viewer,
        {
            "type": "dcmview:requests",
            "requests": [
                {"type": "dcmview:request", "id": i, "method": "GET", "path": p, "headers": {}}
                for i, p in paths.items()
            ]
            + ["not a request"],
        },
        [],
    )
    deadline = time.monotonic() + 30
    while {m["id"] for m, _ in cap.messages} != set(paths) and time.monotonic() < deadline:
        time.sleep(0.01)
    status = {m["id"]: m["status"] for m, _ in cap.messages}
    assert status == {11: 200, 12: 404, 13: 200}
    raw = next(b for m, b in cap.messages if m["id"] == 13)
    assert len(raw[0]) == 64 * 64 * 2


def test_errors_travel_as_api_errors(viewer) -> None:
    cap = Captured(viewer)
    status, _, body = cap.answer(viewer, "api/file/99/info")
    assert status == 404 and json.loads(body)["code"] == "not_found"
    status, _, body = cap.answer(viewer, "api/file/0/frame/0?wc=1", request_id=3)
    assert status == 400 and json.loads(body)["code"] == "invalid_window"


def test_oversize_frames_are_split_under_4_mb(viewer, folder: Path) -> None:
    cap = Captured(viewer)
    index = next(f["index"] for f in viewer.files if f["modality"] == "MG")
    status, headers, body = cap.answer(viewer, f"api/file/{index}/frame/0/raw", request_id=7)
    assert status == 200 and len(body) == 3000 * 2500 * 2
    assert len(cap.messages) == -(-len(body) // MAX_PART_BYTES) > 1
    for content, buffers in cap.messages:
        assert len(json.dumps(content)) + sum(len(b) for b in buffers) <= 4 * 1024 * 1024
    arr = np.frombuffer(body, "<u2").reshape(3000, 2500)
    assert int(headers["X-Frame-Rows"]) == 3000 and arr.std() > 0


def test_put_from_the_viewer_and_python_access(viewer, tmp_path: Path) -> None:
    cap = Captured(viewer)
    payload = json.dumps({"roi_coords": [[1, 2, 20, 30]], "roi_frames": [[]]})
    status, headers, body = cap.answer(
        viewer,
        "api/file/1/annotations",
        method="PUT",
        body=payload,
        headers={"Content-Type": "application/json"},
    )
    assert status == 200 and headers["ETag"]
    path = viewer.files[1]["path"]
    assert viewer.annotations[path]["roi_coords"] == [[1, 2, 20, 30]]
    before = viewer.annotations_version
    viewer.set_annotations({path: {"roi_coords": [[0, 0, 5, 5], [5, 5, 9, 9]]}})
    assert viewer.annotations_version == before + 1
    status, _, body = cap.answer(viewer, "api/file/1/annotations", request_id=9)
    assert json.loads(body)["num_roi"] == 2
    with pytest.raises(ValueError):
        viewer.set_annotations({path: {"roi_coords": [[0, 0, 5000, 5]]}, 0: {"roi_coords": []}})
    assert viewer.annotations[path]["num_roi"] == 2
    out = viewer.export_csv(tmp_path / "rois.csv")
    assert "[[0,0,5,5],[5,5,9,9]]" in out.read_text()


def test_put_without_json_content_type_is_refused(viewer) -> None:
    cap = Captured(viewer)
    status, _, body = cap.answer(viewer, "api/file/0/annotations", method="PUT", body="{}")
    assert status == 415 and json.loads(body)["code"] == "unsupported_media_type"


def test_invalid_csv_raises_value_error(folder: Path, tmp_path: Path) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text(f'anon_dicom_path,ROI_coords\n{folder}/slice_001.dcm,"[[0,0,999,999]]"\n')
    with pytest.raises(ValueError, match="line 2"):
        dcmview.Viewer([folder], annotations=csv)


def test_independent_viewers(folder: Path, tmp_path: Path) -> None:
    gen.write_multiframe(tmp_path, frames=2, rows=8, columns=8)
    a, b = dcmview.Viewer([folder]), dcmview.Viewer([tmp_path])
    assert len(a.files) == 3 and len(b.files) == 1
    a.frame = 3
    assert b.frame == 0
