"""Window/level, presets, orientation, zoom/pan, reset and the pixel readout."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from playwright.sync_api import Page

from .. import dicomgen
from ..harness import DcmviewProcess
from .helpers import (
    drag,
    file_index,
    image_box,
    open_file,
    open_viewer,
    state,
    viewport_pixels,
    wait_state,
)

PRESETS_TS = Path(__file__).resolve().parents[2] / "js" / "src" / "presets.ts"


def preset_table() -> list[tuple[str, float, float]]:
    """(id, center, width) of the presets with values, read from the one table the UI uses."""
    text = PRESETS_TS.read_text()
    rows = re.findall(
        r'\{ id: "(\w+)", label: "[^"]+", center: (-?[\d.]+), width: ([\d.]+) \}', text
    )
    return [(i, float(c), float(w)) for i, c, w in rows]


def open_marker(page: Page, server: DcmviewProcess) -> int:
    open_viewer(page, server)
    index = file_index(server, "marker")
    open_file(page, index)
    return index


def bright_centroid(px: np.ndarray) -> tuple[float, float]:
    """Centroid of the bright marker relative to the centre of the drawn image, in -1..1."""
    grey = px[..., 0]
    drawn = np.argwhere(grey > 5)
    (y0, x0), (y1, x1) = drawn.min(0), drawn.max(0)
    ys, xs = np.nonzero(grey > 200)
    cy, cx = (y0 + y1) / 2, (x0 + x1) / 2
    return (xs.mean() - cx) / ((x1 - x0) / 2), (ys.mean() - cy) / ((y1 - y0) / 2)


def test_wl_drag_changes_pixels_without_a_request(page: Page, server: DcmviewProcess) -> None:
    open_marker(page, server)
    before = viewport_pixels(page)
    start = state(page)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    drag(page, (0.5, 0.5), (0.3, 0.35), steps=12)
    after_state = wait_state(page, preset="manual")
    after = viewport_pixels(page)
    assert float(after_state["ww"]) < float(start["ww"])
    assert float(after_state["wc"]) < float(start["wc"])
    assert (abs(after - before) > 3).mean() > 0.1
    assert requests == []


def test_presets_apply_the_listed_values(page: Page, server: DcmviewProcess) -> None:
    open_viewer(page, server)
    open_file(page, file_index(server, "slice_001"))
    table = preset_table()
    assert [t[0] for t in table] == ["abdomen", "angio", "bone", "brain", "chest", "lung"]
    for preset_id, center, width in table:
        page.locator(".dcmv-preset").select_option(preset_id)
        s = wait_state(page, preset=preset_id)
        assert (float(s["wc"]), float(s["ww"])) == (center, width)
    page.locator(".dcmv-preset").select_option("default")
    s = wait_state(page, preset="default")
    assert (float(s["wc"]), float(s["ww"])) == (40.0, 400.0)  # the file's own window
    page.locator(".dcmv-preset").select_option("full")
    s = wait_state(page, preset="full")
    # Full dynamic spans the frame's modality range: -1000 HU air to the brightest insert.
    assert float(s["wc"]) - float(s["ww"]) / 2 == -1000


def test_flips_and_rotations_move_the_marker(
    page: Page, server: DcmviewProcess, artifacts: Path
) -> None:
    open_marker(page, server)
    x, y = bright_centroid(viewport_pixels(page, artifacts / "0-original.png"))
    assert x < -0.2 and y < -0.2  # top-left
    page.locator(".dcmv-flip-h").click()
    wait_state(page, flip="true")
    x, y = bright_centroid(viewport_pixels(page, artifacts / "1-flip-h.png"))
    assert x > 0.2 and y < -0.2  # top-right
    page.locator(".dcmv-flip-h").click()
    page.locator(".dcmv-flip-v").click()
    x, y = bright_centroid(viewport_pixels(page, artifacts / "2-flip-v.png"))
    assert x < -0.2 and y > 0.2  # bottom-left
    page.locator(".dcmv-flip-v").click()
    wait_state(page, flip="false", rot="0")
    page.locator(".dcmv-rot-cw").click()
    wait_state(page, rot="1")
    x, y = bright_centroid(viewport_pixels(page, artifacts / "3-rot-cw.png"))
    assert x > 0.2 and y < -0.2  # top-left corner turned to the top-right
    page.locator(".dcmv-rot-ccw").click()
    page.locator(".dcmv-rot-ccw").click()
    wait_state(page, rot="3")
    x, y = bright_centroid(viewport_pixels(page, artifacts / "4-rot-ccw.png"))
    assert x < -0.2 and y > 0.2  # ... and to the bottom-left the other way


def test_invert_inverts_grey_levels(page: Page, server: DcmviewProcess) -> None:
    open_marker(page, server)
    before = viewport_pixels(page)
    page.locator(".dcmv-invert").click()
    wait_state(page, invert="true")
    after = viewport_pixels(page)
    drawn = before[..., 0] > 5
    assert abs((after[..., 0] + before[..., 0])[drawn] - 255).mean() < 2


def test_zoom_pan_and_double_click_reset(page: Page, server: DcmviewProcess) -> None:
    open_marker(page, server)
    fit = state(page)
    box = image_box(page)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.keyboard.down("Control")
    page.mouse.wheel(0, -300)
    page.keyboard.up("Control")
    zoomed = page.wait_for_function(
        "(z) => Number(document.querySelector('#dcmview-root').dataset.zoom) > z",
        arg=float(fit["zoom"]) * 1.2,
    )
    assert zoomed
    drag(page, (0.5, 0.6), (0.5, 0.4), button="right")  # right-drag up zooms in further
    z2 = float(state(page)["zoom"])
    assert z2 > float(fit["zoom"]) * 1.5
    before_pan = viewport_pixels(page)
    drag(page, (0.5, 0.5), (0.7, 0.5), button="middle")
    assert (viewport_pixels(page) != before_pan).any()
    drag(page, (0.5, 0.5), (0.6, 0.7))  # W/L
    page.locator(".dcmv-rot-cw").click()
    page.locator(".dcmv-viewport").dblclick()
    s = wait_state(page, rot="0", flip="false", preset="default", zoom=fit["zoom"])
    assert (s["wc"], s["ww"]) == (fit["wc"], fit["ww"])


def test_tool_shortcuts_select_tools(page: Page, server: DcmviewProcess) -> None:
    open_marker(page, server)
    for key, tool in [("p", "pan"), ("z", "zoom"), ("s", "scroll"), ("r", "roi"), ("w", "wl")]:
        page.keyboard.press(key)
        wait_state(page, tool=tool)
        assert (
            page.locator(f'.dcmv-tool[data-tool="{tool}"]').get_attribute("aria-pressed") == "true"
        )


def test_pixel_readout_shows_stored_and_modality_values(page: Page, server: DcmviewProcess) -> None:
    open_viewer(page, server)
    open_file(page, file_index(server, "slice_001"))
    box = image_box(page)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    text = page.inner_text(".dcmv-bl")
    assert re.search(r"Row \d+, Col \d+", text)
    m = re.search(r"Stored (\d+)\s+HU (-?[\d.]+)", text)
    assert m and float(m.group(2)) == int(m.group(1)) - 1024


def test_pixel_readout_of_a_colour_frame(page: Page, server: DcmviewProcess) -> None:
    open_viewer(page, server)
    open_file(page, file_index(server, "planar_rgb"), source="png")
    box = image_box(page)
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.6)
    text = page.inner_text(".dcmv-bl")
    m = re.search(r"Row (\d+), Col (\d+)\s+RGB (\d+), (\d+), (\d+)", text)
    assert m, text
    row, col = int(m.group(1)), int(m.group(2))
    expected = dicomgen.colour_phantom(32, 48)[row, col]
    assert [int(m.group(i)) for i in (3, 4, 5)] == [int(v) for v in expected]
