"""The API contract of SPEC §3 on generated files, through each of its doors.

Every data test runs three times: through the real server over HTTP, through the notebook
widget's message pump, and through the router (``Api.handle``). Tests of what only HTTP has
(the token) use the HTTP server alone.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image

import dcmview
from dcmview.api import Api
from dcmview.core.session import open_session

from . import dicomgen as gen
from .harness import DcmviewProcess
from .transports import RouterClient, WidgetClient

SUMMARY_KEYS = {
    "index",
    "path",
    "label",
    "patient_id",
    "patient_name",
    "study_date",
    "study_description",
    "study_instance_uid",
    "series_instance_uid",
    "sop_instance_uid",
    "series_number",
    "series_description",
    "modality",
    "instance_number",
    "has_pixels",
    "frame_count",
    "rows",
    "columns",
    "transfer_syntax_uid",
    "default_window",
    "burned_in_annotation",
    "shutter_shapes",
}


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("study")
    (root / "ct").mkdir()
    gen.write_ct_series(root / "ct", count=3)
    gen.write_multiframe(root, frames=6, rows=32, columns=40, name="cine.dcm", patient_id="MF")
    gen.write_monochrome1(root, patient_id="M1")
    gen.write_voi_lut_only(root, patient_id="VOI")
    gen.write_pixel_padding(root, patient_id="PAD")
    gen.write_multi_window(root, patient_id="MW")
    gen.write_modality_lut(
        root, patient_id="MLUT", extra={"WindowCenter": 4096, "WindowWidth": 4000}
    )
    gen.write_palette(root, patient_id="PAL")
    gen.write_no_pixels(root, patient_id="SR")
    gen.write_planar_rgb(root, patient_id="RGB")
    gen.write_image(
        root / "burned.dcm",
        gen.phantom(16, 16),
        patient_id="BURN",
        extra={"BurnedInAnnotation": "YES"},
    )
    long_numbers = [float(i) for i in range(500)]
    gen.write_image(
        root / "long.dcm",
        gen.phantom(16, 16),
        patient_id="LONG",
        extra={"FrameTimeVector": long_numbers},
    )
    # A transfer syntax no installed plugin decodes (MPEG-2): header readable, pixels not.
    rle = gen.write_syntax(root, "1.2.840.10008.1.2.5", name="mpeg.dcm", patient_id="MPEG")
    ds = pydicom.dcmread(rle.path)
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.100"
    ds.save_as(rle.path)
    gen.write_not_dicom(root)
    return root


def _inputs(study_dir: Path) -> list[str]:
    return [str(study_dir), str(study_dir / "cine.dcm")]


@pytest.fixture(scope="module")
def http_server(study_dir: Path):
    with DcmviewProcess("--port", "0", *_inputs(study_dir)) as proc:
        proc.wait_scan()
        yield proc


@pytest.fixture(scope="module", params=["http", "widget", "router"])
def server(request: pytest.FixtureRequest, study_dir: Path):
    """The API through one of its doors (each with a session of its own)."""
    if request.param == "http":
        yield request.getfixturevalue("http_server")
    elif request.param == "widget":
        yield WidgetClient(dcmview.Viewer(_inputs(study_dir)))
    else:
        session = open_session(_inputs(study_dir))
        session.scan()
        yield RouterClient(Api(session))


@pytest.fixture(scope="module")
def index_of(server: DcmviewProcess):
    files = server.get("api/files").json()["files"]
    by_name = {Path(f["path"]).name: f["index"] for f in files}
    return lambda name: by_name[name]


def _png(reply) -> np.ndarray:
    assert reply.status == 200, reply.body[:300]
    assert reply.header("Content-Type") == "image/png"
    return np.asarray(Image.open(io.BytesIO(reply.body)))


def _linear(values: np.ndarray, c: float, w: float) -> np.ndarray:
    """PS3.3 C.11.2.1.2.1, written independently of the implementation."""
    x = values.astype(np.float64)
    y = ((x - (c - 0.5)) / (w - 1) + 0.5) * 255
    y = np.where(x <= c - 0.5 - (w - 1) / 2, 0, np.where(x > c - 0.5 + (w - 1) / 2, 255, y))
    return np.clip(np.floor(y + 0.5), 0, 255).astype(np.uint8)


# -- health and files ---------------------------------------------------------------------
def test_health_has_exactly_the_contract_fields(server: DcmviewProcess) -> None:
    reply = server.get("api/health", token=False)
    assert reply.status == 200
    body = reply.json()
    assert set(body) == {
        "status",
        "file_count",
        "server_start_ms",
        "scan_complete",
        "version",
        "masked",
    }
    assert body["masked"] is False
    assert body["status"] == "ok" and body["scan_complete"] is True
    assert body["file_count"] == len(server.get("api/files").json()["files"])


def test_files_lists_each_file_once_with_the_summary_fields(server: DcmviewProcess) -> None:
    listing = server.get("api/files").json()
    for key in (
        "files",
        "discovery",
        "scanned",
        "skipped",
        "filtered",
        "tunnelled",
        "tunnel_host",
        "server_start_ms",
        "scan_complete",
    ):
        assert key in listing
    files = listing["files"]
    assert [f["index"] for f in files] == list(range(len(files)))
    assert all(set(f) >= SUMMARY_KEYS for f in files)
    paths = [f["path"] for f in files]
    assert len(paths) == len(set(paths)), "cine.dcm was given twice but must be listed once"
    assert listing["tunnelled"] is False and listing["tunnel_host"] is None


def test_files_are_ordered_by_study_series_and_instance(server: DcmviewProcess) -> None:
    files = server.get("api/files").json()["files"]
    ct = [f for f in files if f["modality"] == "CT" and f["patient_id"] == "DCMGEN-CT"]
    assert [f["instance_number"] for f in ct] == [1, 2, 3]
    assert [f["index"] for f in ct] == list(range(ct[0]["index"], ct[0]["index"] + 3))


def test_label_joins_patient_modality_and_date(server: DcmviewProcess, index_of) -> None:
    f = server.get("api/files").json()["files"][index_of("cine.dcm")]
    assert f["label"] == "MF · XA · 20240102"
    assert f["frame_count"] == 6 and (f["rows"], f["columns"]) == (32, 40)
    assert f["default_window"] == {"center": 2048.0, "width": 4096.0}


def test_missing_strings_are_empty_not_null(server: DcmviewProcess, index_of) -> None:
    f = server.get("api/files").json()["files"][index_of("report_sr.dcm")]
    assert f["has_pixels"] is False and f["rows"] is None
    assert all(isinstance(f[k], str) for k in ("patient_name", "study_description", "modality"))


def test_summary_says_whether_annotation_is_burned_in(server: DcmviewProcess, index_of) -> None:
    files = server.get("api/files").json()["files"]
    assert files[index_of("burned.dcm")]["burned_in_annotation"] == "YES"
    # the generator writes no Burned In Annotation: unknown, not "NO"
    assert files[index_of("cine.dcm")]["burned_in_annotation"] == ""


def test_summary_says_which_pixels_cannot_be_decoded(server: DcmviewProcess, index_of) -> None:
    files = server.get("api/files").json()["files"]
    assert files[index_of("mpeg.dcm")]["pixels_supported"] is False
    assert files[index_of("report_sr.dcm")]["pixels_supported"] is False
    assert files[index_of("cine.dcm")]["pixels_supported"] is True


def test_info_shape(server: DcmviewProcess, index_of) -> None:
    info = server.get(f"api/file/{index_of('cine.dcm')}/info").json()
    assert info == {
        "frame_count": 6,
        "rows": 32,
        "columns": 40,
        "transfer_syntax": "Explicit VR Little Endian",
        "transfer_syntax_uid": "1.2.840.10008.1.2.1",
        "has_pixels": True,
        "default_window": {"center": 2048.0, "width": 4096.0},
        "photometric_interpretation": "MONOCHROME2",
        "samples_per_pixel": 1,
        "bits_allocated": 16,
        "pixel_spacing": None,
    }


# -- frames and windows -------------------------------------------------------------------
def test_explicit_window_is_applied_and_echoed(server: DcmviewProcess, index_of) -> None:
    i = index_of("slice_001.dcm")
    reply = server.get(f"api/file/{i}/frame/0?wc=100&ww=300")
    got = _png(reply)
    assert reply.header("X-Frame-Window-Applied") == "linear"
    assert reply.header("X-Frame-Window-Center") == "100"
    assert reply.header("X-Frame-Window-Width") == "300"
    ds = pydicom.dcmread(server.get("api/files").json()["files"][i]["path"])
    hu = ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    assert np.array_equal(got, _linear(hu, 100, 300))


def test_file_window_is_the_default(server: DcmviewProcess, index_of) -> None:
    reply = server.get(f"api/file/{index_of('multi_window.dcm')}/frame/0")
    _png(reply)
    assert reply.header("X-Frame-Window-Applied") == "linear"
    # The first of the two pairs (soft tissue), in modality units.
    assert (reply.header("X-Frame-Window-Center"), reply.header("X-Frame-Window-Width")) == (
        "40",
        "400",
    )


def test_voi_lut_is_used_when_there_is_no_window(server: DcmviewProcess, index_of) -> None:
    i = index_of("voi_lut.dcm")
    reply = server.get(f"api/file/{i}/frame/0")
    got = _png(reply)
    assert reply.header("X-Frame-Window-Applied") == "voi_lut"
    assert reply.header("X-Frame-Window-Center") is None
    ds = pydicom.dcmread(server.get("api/files").json()["files"][i]["path"])
    table = gen.voi_lut_table(4096).astype(np.float64)
    expected = np.floor(table[np.clip(ds.pixel_array, 0, 4095)] * 255 / 65535 + 0.5)
    assert np.abs(got.astype(int) - expected.astype(int)).max() <= 1


def test_percentile_fallback_ignores_pixel_padding(server: DcmviewProcess, index_of) -> None:
    i = index_of("padding.dcm")
    reply = server.get(f"api/file/{i}/frame/0")
    _png(reply)
    assert reply.header("X-Frame-Window-Applied") == "linear"
    ds = pydicom.dcmread(server.get("api/files").json()["files"][i]["path"])
    stored = ds.pixel_array
    values = stored[stored != int(ds.PixelPaddingValue)].astype(np.float64)
    p1, p99 = np.percentile(values, [1, 99])
    assert float(reply.header("X-Frame-Window-Center")) == pytest.approx((p1 + p99) / 2, rel=1e-4)
    assert float(reply.header("X-Frame-Window-Width")) == pytest.approx(p99 - p1, rel=1e-4)


def test_full_dynamic_beats_an_explicit_window(server: DcmviewProcess, index_of) -> None:
    i = index_of("cine.dcm")
    reply = server.get(f"api/file/{i}/frame/2?mode=full_dynamic&wc=1&ww=2")
    got = _png(reply)
    assert reply.header("X-Frame-Window-Applied") == "full_dynamic"
    frame = pydicom.dcmread(server.get("api/files").json()["files"][i]["path"]).pixel_array[2]
    lo, hi = float(frame.min()), float(frame.max())
    assert float(reply.header("X-Frame-Window-Center")) == pytest.approx((lo + hi) / 2)
    assert got.min() == 0 and got.max() == 255


def test_modality_lut_feeds_the_window(server: DcmviewProcess, index_of) -> None:
    i = index_of("modality_lut.dcm")
    got = _png(server.get(f"api/file/{i}/frame/0"))
    stored = pydicom.dcmread(server.get("api/files").json()["files"][i]["path"]).pixel_array
    assert np.array_equal(got, _linear(stored.astype(np.float64) * 2, 4096, 4000))


def test_monochrome1_is_shown_inverted(server: DcmviewProcess, index_of) -> None:
    i = index_of("mono1.dcm")
    got = _png(server.get(f"api/file/{i}/frame/0?wc=2000&ww=3000"))
    stored = pydicom.dcmread(server.get("api/files").json()["files"][i]["path"]).pixel_array
    assert np.array_equal(got, 255 - _linear(stored, 2000, 3000))


def test_palette_colour_is_expanded_to_rgb(server: DcmviewProcess, index_of) -> None:
    got = _png(server.get(f"api/file/{index_of('palette.dcm')}/frame/0"))
    assert got.ndim == 3 and got.shape[2] == 3
    path = server.get("api/files").json()["files"][index_of("palette.dcm")]["path"]
    idx = pydicom.dcmread(path).pixel_array
    assert np.array_equal(got[..., 0], idx) and np.array_equal(got[..., 1], 255 - idx)


def test_planar_rgb_raw_is_interleaved(server: DcmviewProcess, index_of) -> None:
    reply = server.get(f"api/file/{index_of('planar_rgb.dcm')}/frame/0/raw")
    assert reply.header("X-Frame-Samples-Per-Pixel") == "3"
    assert reply.header("X-Frame-Photometric-Interpretation") == "RGB"
    got = np.frombuffer(reply.body, np.uint8).reshape(32, 48, 3)
    assert np.array_equal(got, gen.colour_phantom(32, 48))


def test_raw_headers_describe_the_samples(server: DcmviewProcess, index_of) -> None:
    reply = server.get(f"api/file/{index_of('slice_002.dcm')}/frame/0/raw")
    assert reply.status == 200
    assert reply.header("Content-Type") == "application/octet-stream"
    assert reply.header("X-Frame-Rows") == "64" and reply.header("X-Frame-Columns") == "64"
    assert reply.header("X-Frame-Bits-Allocated") == "16"
    assert reply.header("X-Frame-Pixel-Representation") == "0"
    assert reply.header("X-Frame-Rescale-Slope") == "1"
    assert reply.header("X-Frame-Rescale-Intercept") == "-1024"
    assert (reply.header("X-Frame-Default-Wc"), reply.header("X-Frame-Default-Ww")) == ("40", "400")
    assert len(reply.body) == 64 * 64 * 2


def test_each_frame_of_a_multiframe_file_is_its_own(server: DcmviewProcess, index_of) -> None:
    i = index_of("cine.dcm")
    stack = pydicom.dcmread(server.get("api/files").json()["files"][i]["path"]).pixel_array
    for f in range(6):
        reply = server.get(f"api/file/{i}/frame/{f}/raw")
        assert np.array_equal(np.frombuffer(reply.body, "<u2").reshape(32, 40), stack[f])


def test_second_request_is_a_cache_hit(server: DcmviewProcess, index_of) -> None:
    i = index_of("slice_003.dcm")
    for path in (f"api/file/{i}/frame/0?wc=7&ww=70", f"api/file/{i}/frame/0/raw"):
        first, second = server.get(path), server.get(path)
        assert second.header("X-Cache") == "HIT"
        assert first.body == second.body
    assert server.get(f"api/file/{i}/frame/0?wc=8&ww=70").header("X-Cache") == "MISS"


# -- tags ---------------------------------------------------------------------------------
def test_tags_have_typed_values(server: DcmviewProcess, index_of) -> None:
    tags = server.get(f"api/file/{index_of('slice_001.dcm')}/tags").json()
    by_kw = {t["keyword"]: t for t in tags}
    assert by_kw["PatientID"] == {
        "tag": "(0010,0020)",
        "vr": "LO",
        "keyword": "PatientID",
        "value": {"type": "string", "value": "DCMGEN-CT"},
    }
    assert by_kw["Rows"]["value"] == {"type": "number", "value": 64.0}
    assert by_kw["PixelSpacing"]["value"] == {"type": "numbers", "value": [0.7, 0.7]}
    assert by_kw["PixelData"]["value"] == {"type": "binary", "length": 64 * 64 * 2}
    assert by_kw["TransferSyntaxUID"]["value"]["value"] == "1.2.840.10008.1.2.1"


def test_long_number_lists_are_cut_at_128(server: DcmviewProcess, index_of) -> None:
    tags = server.get(f"api/file/{index_of('long.dcm')}/tags").json()
    value = next(t for t in tags if t["keyword"] == "FrameTimeVector")["value"]
    assert value["type"] == "numbers" and value["truncated"] is True
    assert value["total"] == 500 and len(value["value"]) == 128


def test_sequences_are_nested_nodes(server: DcmviewProcess, index_of) -> None:
    tags = server.get(f"api/file/{index_of('report_sr.dcm')}/tags").json()
    seq = next(t for t in tags if t["keyword"] == "ContentSequence")["value"]
    assert seq["type"] == "sequence" and len(seq["items"]) == 1
    assert any(n["keyword"] == "TextValue" for n in seq["items"][0])


# -- errors (every row of SPEC §3) --------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("api/file/999/info", 404, "not_found"),
        ("api/file/999/frame/0", 404, "not_found"),
        ("api/file/abc/info", 400, "invalid_query"),
        ("api/file/-1/frame/0", 400, "invalid_query"),
        ("api/nothing/here", 404, "not_found"),
    ],
)
def test_bad_paths(server: DcmviewProcess, path: str, status: int, code: str) -> None:
    reply = server.get(path)
    assert reply.status == status and reply.json()["code"] == code


def test_frame_out_of_range(server: DcmviewProcess, index_of) -> None:
    for suffix in ("", "/raw"):
        reply = server.get(f"api/file/{index_of('cine.dcm')}/frame/6{suffix}")
        assert reply.status == 404 and reply.json()["code"] == "frame_out_of_range"


def test_file_without_pixels(server: DcmviewProcess, index_of) -> None:
    reply = server.get(f"api/file/{index_of('report_sr.dcm')}/frame/0/raw")
    assert reply.status == 404 and reply.json()["code"] == "no_pixel_data"


@pytest.mark.parametrize(
    ("query", "code", "names"),
    [
        ("wc=40", "invalid_window", "ww"),
        ("ww=400", "invalid_window", "wc"),
        ("wc=40&ww=0", "invalid_window", "ww"),
        ("wc=40&ww=-5", "invalid_window", "ww"),
        ("wc=abc&ww=5", "invalid_window", "wc"),
        ("wc=nan&ww=5", "invalid_window", "wc"),
        ("wc=1&ww=inf", "invalid_window", "ww"),
        ("mode=loud", "invalid_query", "mode"),
    ],
)
def test_bad_window_queries(
    server: DcmviewProcess, index_of, query: str, code: str, names: str
) -> None:
    reply = server.get(f"api/file/{index_of('cine.dcm')}/frame/0?{query}")
    assert reply.status == 400
    body = reply.json()
    assert body["code"] == code and names in body["error"]


def test_unsupported_transfer_syntax_is_named(server: DcmviewProcess, index_of) -> None:
    reply = server.get(f"api/file/{index_of('mpeg.dcm')}/frame/0")
    assert reply.status == 422
    body = reply.json()
    assert body["code"] == "unsupported_transfer_syntax"
    assert (
        "MPEG2" in body["error"]
        or "MPEG-2" in body["error"]
        or "1.2.840.10008.1.2.4.100" in body["error"]
    )


def test_api_needs_the_token(http_server: DcmviewProcess) -> None:
    server = http_server
    for path in (
        "api/files",
        "api/file/0/info",
        "api/file/0/frame/0",
        "api/annotations/export.csv",
    ):
        reply = server.get(path, token=False)
        assert reply.status == 401 and reply.json()["code"] == "unauthorized"
    bad = server.get("api/files", headers={"Authorization": "Bearer wrong"})
    assert bad.status == 401


# -- annotations --------------------------------------------------------------------------
def test_annotations_round_trip_with_etag(server: DcmviewProcess, index_of) -> None:
    i = index_of("cine.dcm")
    first = server.get(f"api/file/{i}/annotations")
    assert first.json() == {"num_roi": 0, "roi_coords": [], "roi_frames": []}
    put = server.put_json(
        f"api/file/{i}/annotations",
        {"roi_coords": [[20, 30, 2, 4], [0, 0, 32, 40]], "roi_frames": [[3, 1, 1], []]},
        headers={"If-Match": first.header("ETag")},
    )
    assert put.status == 200
    canonical = {
        "num_roi": 2,
        "roi_coords": [[2, 4, 20, 30], [0, 0, 32, 40]],
        "roi_frames": [[1, 3], []],
    }
    assert put.json() == canonical
    assert put.header("ETag") and put.header("ETag") != first.header("ETag")
    again = server.get(f"api/file/{i}/annotations")
    assert again.json() == canonical and again.header("ETag") == put.header("ETag")
    stale = server.put_json(
        f"api/file/{i}/annotations", {"roi_coords": []}, headers={"If-Match": first.header("ETag")}
    )
    assert stale.status == 412 and stale.json()["code"] == "precondition_failed"
    assert server.get(f"api/file/{i}/annotations").json() == canonical
    csv_reply = server.get("api/annotations/export.csv")
    assert csv_reply.status == 200
    assert csv_reply.header("Content-Type").startswith("text/csv")
    assert (
        csv_reply.header("Content-Disposition") == 'attachment; filename="dcmview-annotations.csv"'
    )
    text = csv_reply.body.decode()
    assert text.splitlines()[0] == "anon_dicom_path,num_ROI,ROI_coords,ROI_frames"
    assert '"[[2,4,20,30],[0,0,32,40]]"' in text


def test_put_rejects_box_outside_image(server: DcmviewProcess, index_of) -> None:
    i = index_of("slice_001.dcm")
    reply = server.put_json(
        f"api/file/{i}/annotations", {"roi_coords": [[0, 0, 10, 10], [0, 0, 65, 10]]}
    )
    assert reply.status == 400
    body = reply.json()
    assert body["code"] == "invalid_annotation" and "ROI 2" in body["error"]
    assert server.get(f"api/file/{i}/annotations").json()["num_roi"] == 0


def test_put_needs_json_content_type(server: DcmviewProcess, index_of) -> None:
    reply = server.request(
        "PUT",
        f"api/file/{index_of('slice_001.dcm')}/annotations",
        body=b'{"roi_coords": []}',
        headers={"Content-Type": "text/plain"},
    )
    assert reply.status == 415 and reply.json()["code"] == "unsupported_media_type"


def test_put_rejects_malformed_json(server: DcmviewProcess, index_of) -> None:
    reply = server.request(
        "PUT",
        f"api/file/{index_of('slice_001.dcm')}/annotations",
        body=b'{"roi_coords": [',
        headers={"Content-Type": "application/json"},
    )
    assert reply.status == 400 and reply.json()["code"] == "invalid_json"


def test_put_rejects_a_body_over_the_limit(server: DcmviewProcess, index_of) -> None:
    body = json.dumps({"roi_coords": [[0, 0, 1, 1]] * 120_000}).encode()
    assert len(body) > 1024 * 1024
    reply = server.request(
        "PUT",
        f"api/file/{index_of('slice_001.dcm')}/annotations",
        body=body,
        headers={"Content-Type": "application/json"},
    )
    assert reply.status == 413 and reply.json()["code"] == "payload_too_large"
