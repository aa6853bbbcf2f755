"""Redaction boxes (SPEC §12): the annotations' rules through each door of the API, the copy to
a stack, the CSV export, display PNGs painted black and ``/raw`` unchanged, and the recovery
file when the server stops with boxes never exported."""

from __future__ import annotations

import csv
import io
import json
import signal
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import dcmview

from . import dicomgen as gen
from .harness import DcmviewProcess
from .transports import DOORS, WidgetClient, door

EMPTY = {"num_roi": 0, "roi_coords": [], "roi_frames": []}


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("redactions")
    gen.write_ct_series(root / "ct", count=3, size=32)
    gen.write_multiframe(root, frames=4, rows=24, columns=20, name="cine.dcm", patient_id="MF")
    gen.write_no_pixels(root, patient_id="SR")
    return root


@pytest.fixture(params=DOORS)
def server(request: pytest.FixtureRequest, study: Path):
    """A fresh session per test (boxes are state), through one of the doors."""
    with door(request.param, [str(study)]) as client:
        yield client


def _index(server, name: str) -> int:
    files = server.get("api/files").json()["files"]
    return next(f["index"] for f in files if Path(f["path"]).name == name)


def _png(reply) -> np.ndarray:
    assert reply.status == 200, reply.body[:300]
    return np.asarray(Image.open(io.BytesIO(reply.body)))


def test_round_trip_with_etag_and_412(server) -> None:
    i = _index(server, "cine.dcm")
    first = server.get(f"api/file/{i}/redactions")
    assert first.status == 200 and first.json() == EMPTY
    put = server.put_json(
        f"api/file/{i}/redactions",
        {"roi_coords": [[10, 12, 2, 3]], "roi_frames": [[]]},
        headers={"If-Match": first.header("ETag")},
    )
    canonical = {"num_roi": 1, "roi_coords": [[2, 3, 10, 12]], "roi_frames": [[]]}
    assert put.status == 200 and put.json() == canonical
    assert put.header("ETag") != first.header("ETag")
    again = server.get(f"api/file/{i}/redactions")
    assert again.json() == canonical and again.header("ETag") == put.header("ETag")
    stale = server.put_json(
        f"api/file/{i}/redactions", {"roi_coords": []}, headers={"If-Match": first.header("ETag")}
    )
    assert stale.status == 412 and stale.json()["code"] == "precondition_failed"
    assert server.get(f"api/file/{i}/redactions").json() == canonical
    # Redactions and annotations are separate stores.
    assert server.get(f"api/file/{i}/annotations").json() == EMPTY


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ({"roi_coords": [[0, 0, 4, 4], [0, 0, 25, 4]]}, ("ROI 2", "ymax 25")),
        ({"roi_coords": [[0, 0, 4, 4]], "roi_frames": [[1]]}, ("every frame", "[]")),
        ({"roi_coords": [[-1, 0, 4, 4]]}, ("negative",)),
        ({"roi_coords": [[0, 0, 0, 4]]}, ("zero height",)),
        ({"roi_coords": [[0, 0, 4, 4]], "num_roi": 2}, ("num_roi is 2",)),
        ({"boxes": []}, ("unknown field",)),
    ],
)
def test_put_rejects_invalid_boxes_and_changes_nothing(server, payload, words) -> None:
    i = _index(server, "cine.dcm")
    reply = server.put_json(f"api/file/{i}/redactions", payload)
    assert reply.status == 400
    body = reply.json()
    assert body["code"] == "invalid_annotation"
    assert all(w in body["error"] for w in words), body["error"]
    assert server.get(f"api/file/{i}/redactions").json() == EMPTY


def test_put_needs_json_and_a_file_with_pixels(server) -> None:
    i = _index(server, "cine.dcm")
    plain = server.request(
        "PUT", f"api/file/{i}/redactions", body=b"{}", headers={"Content-Type": "text/plain"}
    )
    assert plain.status == 415
    sr = server.put_json(
        f"api/file/{_index(server, 'report_sr.dcm')}/redactions", {"roi_coords": [[0, 0, 1, 1]]}
    )
    assert sr.status == 400 and "no pixel data" in sr.json()["error"]
    assert server.get("api/file/999/redactions").status == 404


def test_series_copy_gives_every_file_of_the_stack_the_boxes(server) -> None:
    files = server.get("api/files").json()["files"]
    ct = [f["index"] for f in files if f["modality"] == "CT"]
    first = ct[0]
    box = {"roi_coords": [[1, 2, 9, 30]]}
    assert server.put_json(f"api/file/{first}/redactions", box).status == 200
    for body in (b"", b"{}"):
        reply = server.request(
            "PUT",
            f"api/file/{first}/redactions/series",
            body=body,
            headers={"Content-Type": "application/json"},
        )
        assert reply.status == 200, reply.body
        assert reply.json() == {"file_indices": sorted(ct)}
    for i in ct:
        assert server.get(f"api/file/{i}/redactions").json()["roi_coords"] == [[1, 2, 9, 30]]
    cine = _index(server, "cine.dcm")
    assert server.get(f"api/file/{cine}/redactions").json() == EMPTY
    bad = server.put_json(f"api/file/{first}/redactions/series", {"roi_coords": []})
    assert bad.status == 400
    alone = server.request(
        "PUT",
        f"api/file/{cine}/redactions/series",
        body=b"",
        headers={"Content-Type": "application/json"},
    )
    assert alone.json() == {"file_indices": [cine]}


def test_export_has_one_row_per_file_with_boxes(server) -> None:
    files = server.get("api/files").json()["files"]
    cine = _index(server, "cine.dcm")
    ct = next(f["index"] for f in files if f["modality"] == "CT")
    assert server.get("api/redactions/export.csv").body.decode().splitlines() == [
        "anon_dicom_path,num_ROI,ROI_coords,ROI_frames"
    ]
    server.put_json(f"api/file/{cine}/redactions", {"roi_coords": [[0, 0, 2, 2], [3, 3, 5, 5]]})
    server.put_json(f"api/file/{ct}/redactions", {"roi_coords": [[4, 4, 8, 8]]})
    reply = server.get("api/redactions/export.csv")
    assert reply.status == 200 and reply.header("Content-Type").startswith("text/csv")
    assert reply.header("Content-Disposition") == 'attachment; filename="dcmview-redactions.csv"'
    rows = list(csv.DictReader(io.StringIO(reply.body.decode())))
    by_path = {Path(r["anon_dicom_path"]).name: r for r in rows}
    assert len(rows) == 2
    assert json.loads(by_path["cine.dcm"]["ROI_coords"]) == [[0, 0, 2, 2], [3, 3, 5, 5]]
    assert by_path["cine.dcm"]["num_ROI"] == "2" and by_path["cine.dcm"]["ROI_frames"] == "[]"
    # The export loads back as annotations: the same columns.
    assert server.get("api/annotations/export.csv").body.count(b"\n") == 1


def test_display_png_is_black_under_the_box_on_every_frame_and_raw_is_unchanged(server) -> None:
    i = _index(server, "cine.dcm")
    raw_before = [server.get(f"api/file/{i}/frame/{f}/raw").body for f in range(4)]
    before = [_png(server.get(f"api/file/{i}/frame/{f}?wc=2048&ww=4096")) for f in range(4)]
    assert all(img[5:15, 4:12].max() > 0 for img in before)
    server.put_json(f"api/file/{i}/redactions", {"roi_coords": [[5, 4, 15, 12]]})
    for f in range(4):
        after = _png(server.get(f"api/file/{i}/frame/{f}?wc=2048&ww=4096"))
        assert after[5:15, 4:12].max() == 0
        outside = np.ones(after.shape, dtype=bool)
        outside[5:15, 4:12] = False
        assert np.array_equal(after[outside], before[f][outside])
        assert server.get(f"api/file/{i}/frame/{f}/raw").body == raw_before[f]
    # Removing the box shows the image again (the cache is keyed by the boxes).
    server.put_json(f"api/file/{i}/redactions", {"roi_coords": []})
    again = _png(server.get(f"api/file/{i}/frame/0?wc=2048&ww=4096"))
    assert np.array_equal(again, before[0])


def test_python_sees_the_boxes(study: Path) -> None:
    viewer = dcmview.Viewer([str(study)])
    client = WidgetClient(viewer)
    i = _index(client, "cine.dcm")
    assert viewer.redactions == {}
    client.put_json(f"api/file/{i}/redactions", {"roi_coords": [[0, 0, 3, 3]]})
    ((path, payload),) = viewer.redactions.items()
    assert Path(path).name == "cine.dcm"
    assert payload == {"num_roi": 1, "roi_coords": [[0, 0, 3, 3]], "roi_frames": [[]]}
    with dcmview.view([str(study)], browser=False, block=False) as handle:
        assert handle.redactions() == {}


def test_unexported_boxes_go_to_a_recovery_file_on_stop(study: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with DcmviewProcess("--port", "0", str(study), env={"XDG_CACHE_HOME": str(cache)}) as proc:
        proc.wait_scan()
        i = _index(proc, "cine.dcm")
        assert (
            proc.put_json(f"api/file/{i}/redactions", {"roi_coords": [[1, 1, 6, 6]]}).status == 200
        )
        assert proc.stop(signal.SIGTERM, timeout=30) == 0
    marker = "unexported redaction boxes were saved to "
    saved = [Path(line.split(marker, 1)[1]) for line in proc.stderr if marker in line]
    assert len(saved) == 1, proc.output
    assert saved[0].name.startswith("dcmview-redactions-")
    assert "[[1,1,6,6]]" in saved[0].read_text()
    assert not any("unexported ROI edits" in line for line in proc.stderr)
