"""ROIs: draw, PUT, reload, move, resize, delete, frame scope and the CSV export."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from playwright.sync_api import Page

from ..harness import DcmviewProcess
from .helpers import (
    annotations,
    drag,
    file_index,
    open_file,
    open_viewer,
    state,
    wait_loaded,
    wait_state,
)


def draw_box(page: Page) -> None:
    page.keyboard.press("r")
    drag(page, (0.4, 0.4), (0.6, 0.55))
    wait_state(page, save="saved")


def test_drawn_roi_is_saved_and_survives_a_reload(
    page: Page, server: DcmviewProcess, artifacts: Path
) -> None:
    open_viewer(page, server)
    index = file_index(server, "marker")
    open_file(page, index)
    draw_box(page)
    held = annotations(server, index)
    assert held["num_roi"] == 1
    ymin, xmin, ymax, xmax = held["roi_coords"][0]
    assert 0 <= ymin < ymax <= 96 and 0 <= xmin < xmax <= 128
    assert held["roi_frames"] == [[]]
    page.screenshot(path=str(artifacts / "roi-drawn.png"))
    page.reload()
    wait_loaded(page)
    open_file(page, index)
    wait_state(page, rois="1")
    page.screenshot(path=str(artifacts / "roi-after-reload.png"))
    server.put_json(
        f"api/file/{index}/annotations", {"num_roi": 0, "roi_coords": [], "roi_frames": []}
    )


def test_roi_move_resize_and_delete(page: Page, server: DcmviewProcess) -> None:
    open_viewer(page, server)
    index = file_index(server, "slice_002")
    open_file(page, index)
    draw_box(page)
    first = annotations(server, index)["roi_coords"][0]
    assert state(page)["selected"] == "0"
    # Move: drag from inside the box.
    drag(page, (0.5, 0.47), (0.55, 0.52))
    wait_state(page, save="saved")
    moved = annotations(server, index)["roi_coords"][0]
    assert moved != first
    assert moved[2] - moved[0] == first[2] - first[0] and moved[3] - moved[1] == first[3] - first[1]
    assert moved[0] > first[0] and moved[1] > first[1]
    # Resize: drag the bottom-right corner outwards.
    scale = float(state(page)["zoom"])
    box = page.locator(".dcmv-viewport").bounding_box()
    assert box is not None
    # Image pixel (x, y) -> viewport point, for an unrotated, unpanned, fitted view.
    cx, cy = box["width"] / 2, box["height"] / 2
    x = box["x"] + cx + (moved[3] - 64 / 2) * scale
    y = box["y"] + cy + (moved[2] - 64 / 2) * scale
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 3 * scale, y + 2 * scale, steps=5)
    page.mouse.up()
    wait_state(page, save="saved")
    resized = annotations(server, index)["roi_coords"][0]
    assert resized[:2] == moved[:2]
    assert resized[2] == moved[2] + 2 and resized[3] == moved[3] + 3
    # Delete with the key.
    page.keyboard.press("Delete")
    wait_state(page, rois="0", save="saved")
    assert annotations(server, index)["num_roi"] == 0


def test_frame_scope_limits_an_roi_to_its_frame(page: Page, server: DcmviewProcess) -> None:
    open_viewer(page, server)
    index = file_index(server, "cine12")
    open_file(page, index)
    page.keyboard.press("ArrowRight")
    wait_state(page, frame="1", shownFrame="1")
    page.locator(".dcmv-scope").select_option("frame")
    draw_box(page)
    assert annotations(server, index)["roi_frames"] == [[1]]
    page.locator(".dcmv-scope").select_option("all")
    wait_state(page, save="saved")
    assert annotations(server, index)["roi_frames"] == [[]]
    page.keyboard.press("Delete")
    wait_state(page, rois="0", save="saved")


def test_export_downloads_what_the_server_holds(page: Page, server: DcmviewProcess) -> None:
    open_viewer(page, server)
    index = file_index(server, "slice_003")
    open_file(page, index)
    draw_box(page)
    with page.expect_download() as info:
        page.locator(".dcmv-export").click()
    download = info.value
    assert download.suggested_filename == "dcmview-annotations.csv"
    body = Path(download.path()).read_bytes()
    assert body == server.get("api/annotations/export.csv").body
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    row = next(r for r in rows if r["anon_dicom_path"].endswith("slice_003.dcm"))
    assert json.loads(row["ROI_coords"]) == annotations(server, index)["roi_coords"]


def test_unsaved_edits_warn_before_unload(page: Page, server: DcmviewProcess) -> None:
    open_viewer(page, server)
    index = file_index(server, "slice_004")
    open_file(page, index)
    # Make every PUT fail: the edit stays unsaved and the page asks before leaving.
    page.route(
        "**/annotations",
        lambda route: (
            route.fulfill(status=503, body="{}")
            if route.request.method == "PUT"
            else route.continue_()
        ),
    )
    page.keyboard.press("r")
    drag(page, (0.4, 0.4), (0.6, 0.55))
    wait_state(page, save="failed")
    assert "NOT saved" in page.inner_text(".dcmv-save")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.type), d.dismiss()))
    page.evaluate("() => { window.location.href = 'about:blank'; }")
    page.wait_for_timeout(500)
    assert dialogs == ["beforeunload"]
    page.unroute("**/annotations")
    page.locator(".dcmv-retry").click()
    wait_state(page, save="saved")
    assert annotations(server, index)["num_roi"] == 1
