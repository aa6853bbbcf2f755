"""``/api/layers``, ``/api/layer/:id/frame/:v`` and ``.../contours`` (SPEC §10) through the
three doors (HTTP, widget messages, router), and ``add_layer`` from Python (widget, handle)."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

import dcmview
from dcmview.api import Api
from dcmview.core.session import Session

from . import layergen as lg
from .harness import DcmviewProcess
from .transports import RouterClient, WidgetClient

LAYER_KEYS = {"id", "name", "kind", "source", "stack_id", "labels", "value_range", "units"}
MASK = np.zeros((4, 24, 24), np.uint8)
MASK[1, 3:9, 4:10] = 1
MASK[2, 12:20, 12:16] = 2


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A CT series with a SEG over it, pydicom's RTSTRUCT with its CT, and a NIfTI float map
    over the CT (given as an overlay)."""
    root = tmp_path_factory.mktemp("layers_api")
    ct = lg.write_ct(root / "ct", count=4, rows=24, columns=24)
    lg.write_seg(root / "ct" / "seg.dcm", ct, MASK)
    lg.ct_for_rtstruct(root / "rs")
    heat = np.zeros((24, 24, 4), np.float32)
    heat[5, 6, 3] = 2.5
    nifti = lg.write_nifti(root / "heat.nii.gz", heat, np.diag([-0.7, -0.7, 2.5, 1.0]))
    return root, nifti


@pytest.fixture(scope="module", params=["http", "widget", "router"])
def client(request: pytest.FixtureRequest, study: tuple[Path, Path]):
    root, nifti = study
    if request.param == "http":
        with DcmviewProcess("--port", "0", "--overlay", str(nifti), str(root)) as proc:
            proc.wait_layers()
            yield proc
    elif request.param == "widget":
        viewer = dcmview.Viewer([str(root)], overlays=[nifti])
        yield WidgetClient(viewer)
        viewer.close()
    else:
        session = Session([str(root)], overlays=[str(nifti)])
        session.scan()
        yield RouterClient(Api(session))
        session.close()


def _by_source(client) -> dict[str, dict]:
    reply = client.get("api/layers")
    assert reply.status == 200
    return {layer["source"]: layer for layer in reply.json()}


def _series(client) -> dict[str, dict]:
    stacks = {}
    for series in client.get("api/series").json()["series"]:
        for stack in series["stacks"]:
            stacks[stack["id"]] = stack
    return stacks


def test_layers_list_has_the_contract_fields(client) -> None:
    layers = _by_source(client)
    assert set(layers) == {"seg", "rtstruct", "nifti"}
    for layer in layers.values():
        assert set(layer) >= LAYER_KEYS
        assert layer["stack_id"] is not None and layer["problem"] is None
    assert layers["seg"]["kind"] == "labels" and layers["rtstruct"]["kind"] == "contours"
    assert layers["nifti"]["kind"] == "heatmap"
    assert layers["nifti"]["value_range"] == [0.0, 2.5]
    assert [label["color"] for label in layers["seg"]["labels"]] == ["#ff0000", "#00ff00"]


def test_label_frame_is_raw_uint8_with_its_headers(client) -> None:
    seg = _by_source(client)["seg"]
    stack = _series(client)[seg["stack_id"]]
    with_slice = []
    for frame in stack["frames"]:
        reply = client.get(f"api/layer/{seg['id']}/frame/{frame['virtual_index']}")
        i = frame["instance_number"] - 1
        if not MASK[i].any():
            assert reply.status == 204 and reply.body == b""
            continue
        with_slice.append(frame["virtual_index"])
        assert reply.status == 200
        assert reply.header("X-Layer-Dtype") == "uint8"
        assert (reply.header("X-Layer-Rows"), reply.header("X-Layer-Columns")) == ("24", "24")
        got = np.frombuffer(reply.body, np.uint8).reshape(24, 24)
        np.testing.assert_array_equal(got, MASK[i])
    assert seg["frames"] == with_slice  # the list names exactly the images with a slice


def test_heatmap_frame_is_float32_little_endian(client) -> None:
    layer = _by_source(client)["nifti"]
    stack = _series(client)[layer["stack_id"]]
    last = next(f for f in stack["frames"] if f["instance_number"] == 4)
    reply = client.get(f"api/layer/{layer['id']}/frame/{last['virtual_index']}")
    assert reply.status == 200 and reply.header("X-Layer-Dtype") == "float32"
    got = np.frombuffer(reply.body, "<f4").reshape(24, 24)
    # voxel (i=5, j=6) of a RAS affine diag(-0.7, -0.7): LPS x = 3.5, y = 4.2 → row 6, column 5
    assert got[6, 5] == pytest.approx(2.5) and np.count_nonzero(got) == 1


def test_contours_are_pixel_polygons(client) -> None:
    layer = _by_source(client)["rtstruct"]
    reply = client.get(f"api/layer/{layer['id']}/frame/0/contours")
    assert reply.status == 200
    polygons = reply.json()
    assert [p["name"] for p in polygons] == ["patient"]
    points = np.array(polygons[0]["points"])
    assert points.shape[1] == 2 and points.min() >= 0  # (x, y) inside the 64² image
    seg = _by_source(client)["seg"]
    refused = client.get(f"api/layer/{seg['id']}/frame/0/contours")
    assert refused.status == 404 and refused.json()["code"] == "not_found"


def test_layer_errors_are_json_with_codes(client) -> None:
    seg = _by_source(client)["seg"]
    unknown = client.get("api/layer/layer-999/frame/0")
    assert unknown.status == 404 and unknown.json()["code"] == "not_found"
    beyond = client.get(f"api/layer/{seg['id']}/frame/99")
    assert beyond.status == 404 and beyond.json()["code"] == "frame_out_of_range"
    bad = client.get(f"api/layer/{seg['id']}/frame/x")
    assert bad.status == 400 and "virtual index" in bad.json()["error"]


def test_cli_prints_where_each_layer_is_drawn(
    study: tuple[Path, Path], serve, tmp_path: Path
) -> None:
    root, nifti = study
    proc = serve("--port", "0", "--overlay", str(nifti), str(root / "ct"))
    assert "4 image(s)" in proc.wait_line("layer heat.nii.gz (nifti) on")
    proc.wait_line("layer seg.dcm (seg) on")
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(root / "ct" / "seg.dcm", alone / "seg.dcm")
    lonely = serve("--port", "0", str(alone))
    deadline = time.monotonic() + 30
    while "layer not drawn: seg.dcm: it references series" not in lonely.output:
        assert time.monotonic() < deadline, lonely.output
        time.sleep(0.05)


def test_cli_refuses_a_missing_overlay(tmp_path: Path) -> None:
    from .harness import run_cli

    result = run_cli("--overlay", str(tmp_path / "nope.nii"), str(tmp_path))
    assert (
        result.returncode == 2 and "--overlay" in result.stderr and "no such file" in result.stderr
    )


def test_viewer_add_layer_numpy_then_remove(study: tuple[Path, Path]) -> None:
    root, _ = study
    viewer = dcmview.Viewer([str(root / "ct")])
    try:
        stack = next(
            s for series in viewer.series for s in series["stacks"] if len(s["frames"]) == 4
        )
        before = viewer.layers_version
        mask = np.zeros((4, 24, 24), np.uint8)
        mask[0, 1, 2] = 3
        layer = viewer.add_layer(mask, name="prediction", on=stack["id"], colors={3: "#123456"})
        assert viewer.layers_version > before
        assert layer.info["labels"] == [{"value": 3, "name": "Label 3", "color": "#123456"}]
        client = WidgetClient(viewer)
        listed = client.get("api/layers").json()
        assert [entry["name"] for entry in listed] == ["seg.dcm", "prediction"]
        reply = client.get(f"api/layer/{layer.id}/frame/0")
        assert np.frombuffer(reply.body, np.uint8).reshape(24, 24)[1, 2] == 3
        layer.opacity = 0.25
        assert client.get("api/layers").json()[1]["opacity"] == 0.25
        layer.remove()
        assert [entry["name"] for entry in client.get("api/layers").json()] == ["seg.dcm"]
        assert [ref.name for ref in viewer.layers] == ["seg.dcm"]
    finally:
        viewer.close()


def test_add_layer_wrong_shape_names_both_shapes(study: tuple[Path, Path]) -> None:
    root, _ = study
    viewer = dcmview.Viewer([str(root / "ct")])
    try:
        stack_id = viewer.series[0]["stacks"][0]["id"]
        with pytest.raises(ValueError, match=r"\(3, 24, 24\).*\(4, 24, 24\)"):
            viewer.add_layer(np.zeros((3, 24, 24), np.uint8), on=stack_id)
        assert [ref.name for ref in viewer.layers] == ["seg.dcm"]
    finally:
        viewer.close()


def test_add_layer_nifti_off_the_stack_raises_and_adds_nothing(
    study: tuple[Path, Path], tmp_path: Path
) -> None:
    root, _ = study
    far = np.diag([-0.7, -0.7, 2.5, 1.0])
    far[2, 3] = 300.0
    path = lg.write_nifti(tmp_path / "far.nii.gz", np.ones((24, 24, 4), np.uint8), far)
    handle = dcmview.view([str(root / "ct")], block=False, browser=False)
    try:
        with pytest.raises(ValueError, match="affine meets no loaded stack"):
            handle.add_layer(path)
        assert [ref.name for ref in handle.layers] == ["seg.dcm"]
        float_map = np.zeros((4, 24, 24), np.float32)
        float_map[2, 5, 5] = 1.5
        added = handle.add_layer(float_map, name="probability", colors="viridis")
        assert added.kind == "heatmap" and added.info["colormap"] == "viridis"
        listing = json.loads(
            Api(handle._server.session).handle(_get("api/layers")).body  # the server's router
        )
        assert [entry["name"] for entry in listing] == ["seg.dcm", "probability"]
    finally:
        handle.stop()


def _get(path: str):
    from dcmview.api import ApiRequest

    return ApiRequest("GET", path)


def test_add_layer_2d_on_one_file_lands_on_that_image_only(study: tuple[Path, Path]) -> None:
    root, _ = study
    viewer = dcmview.Viewer([str(root / "ct")])
    try:
        stack = next(
            s for series in viewer.series for s in series["stacks"] if len(s["frames"]) == 4
        )
        target = stack["frames"][2]["file_index"]
        image = np.zeros((24, 24), bool)
        image[5, 6] = True
        layer = viewer.add_layer(image, on=target)
        assert layer.stack_id == stack["id"] and layer.kind == "labels"
        client = WidgetClient(viewer)
        for frame in stack["frames"]:
            reply = client.get(f"api/layer/{layer.id}/frame/{frame['virtual_index']}")
            if frame["file_index"] == target:
                got = np.frombuffer(reply.body, np.uint8).reshape(24, 24)
                assert list(zip(*np.nonzero(got), strict=True)) == [(5, 6)]
            else:
                assert reply.status == 204
        with pytest.raises(ValueError, match=r"shape \(4, 24\)"):
            viewer.add_layer(np.zeros((4, 24)), on=target)
        with pytest.raises(ValueError, match="on="):
            viewer.add_layer(np.zeros((4, 24, 24), np.uint8), on=3.5)  # type: ignore[arg-type]
    finally:
        viewer.close()


def test_the_pages_layer_poll_does_not_keep_an_idle_server_alive(
    study: tuple[Path, Path], serve
) -> None:
    root, _ = study
    proc = serve("--port", "0", "--timeout", "2", str(root / "ct"))
    proc.wait_layers()
    deadline = time.monotonic() + 20
    while proc.proc.poll() is None:
        assert time.monotonic() < deadline, "the polled server did not time out"
        try:
            reply = proc.get("api/layers", headers={"X-Dcmview-Poll": "1"})
            assert reply.status == 200
        except OSError:
            break  # it stopped between two polls
        time.sleep(0.3)
    assert proc.proc.wait(10) == 0
