"""Presentation facts the file states: the burned-in annotation badge, display shutters."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from playwright.sync_api import Page

from .. import dicomgen
from ..harness import DcmviewProcess
from .conftest import TOKEN
from .helpers import file_index, open_file, open_viewer, state, viewport_pixels, wait_state

ROWS, COLUMNS = 96, 128
CENTRE, RADIUS = (48, 64), 30  # 1-based row and column of the circle's centre
SHUTTER_GREY = 204  # Shutter Presentation Value 52428 of 65535


@pytest.fixture(scope="module")
def presented(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DcmviewProcess]:
    root = tmp_path_factory.mktemp("presentation")
    pixels = dicomgen.phantom(64, 64)
    for name, flag in (("burned.dcm", "YES"), ("clean.dcm", "NO")):
        dicomgen.write_image(
            root / name, pixels, patient_id="PRESENT", extra={"BurnedInAnnotation": flag}
        )
    dicomgen.write_image(root / "unsaid.dcm", pixels, patient_id="PRESENT")
    # A flat image (grey 62 in its window) under a circular shutter of grey 204.
    dicomgen.write_image(
        root / "circle.dcm",
        np.full((ROWS, COLUMNS), 1000, np.uint16),
        window=(2048, 4096),
        patient_id="SHUTTER",
        extra={
            "ShutterShape": "CIRCULAR",
            "CenterOfCircularShutter": list(CENTRE),
            "RadiusOfCircularShutter": RADIUS,
            "ShutterPresentationValue": 52428,
        },
    )
    with DcmviewProcess("--port", "0", str(root), env={"DCMVIEW_TOKEN": TOKEN}) as proc:
        proc.wait_scan()
        yield proc


def test_explorer_badges_only_burned_in_files(page: Page, presented: DcmviewProcess) -> None:
    open_viewer(page, presented)
    burned = page.locator(f'.dcmv-file[data-file="{file_index(presented, "burned.dcm")}"]')
    badge = burned.locator(".dcmv-badge-burned")
    assert badge.inner_text() == "burned-in"
    assert "Burned In Annotation: YES" in (badge.get_attribute("title") or "")
    for other in ("clean.dcm", "unsaid.dcm"):
        row = page.locator(f'.dcmv-file[data-file="{file_index(presented, other)}"]')
        assert row.count() == 1 and row.locator(".dcmv-badge").count() == 0


def _on_screen(page: Page, row: int, column: int) -> tuple[int, int]:
    """Where the centre of the image pixel (0-based row, column) is in the image canvas, for
    the fitted, centred view."""
    box = page.locator(".dcmv-image").bounding_box()
    assert box is not None
    zoom = float(state(page)["zoom"])
    x = box["width"] / 2 + (column + 0.5 - COLUMNS / 2) * zoom
    y = box["height"] / 2 + (row + 0.5 - ROWS / 2) * zoom
    return round(y), round(x)


@pytest.mark.parametrize("renderer", ["webgl2", "2d"])
def test_canvas_shows_the_shutter_value_outside_a_circular_shutter(
    page: Page, presented: DcmviewProcess, renderer: str
) -> None:
    url = presented.url if renderer == "webgl2" else presented.url.replace("/#", "/?renderer=2d#")
    open_viewer(page, presented, url)
    assert state(page)["renderer"] == renderer
    index = file_index(presented, "circle.dcm")
    open_file(page, index)
    wait_state(page, shutter="on")
    outside = [(4, 4), (90, 120), (47, 100), (10, 63)]  # 0-based; all > 30 px from the centre
    inside = [(47, 63), (47, 40), (30, 70)]
    px = viewport_pixels(page)
    for row, column in outside:
        assert (px[_on_screen(page, row, column)] == SHUTTER_GREY).all(), (row, column)
    for row, column in inside:
        assert abs(px[_on_screen(page, row, column)] - 62).max() <= 2, (row, column)
    corner = page.locator(".dcmv-tr").inner_text()
    assert "Shutter: circular" in corner
    # Switched off, the image under the shutter shows, and the overlay says so.
    page.locator(".dcmv-shutter").click()
    wait_state(page, shutter="off")
    px = viewport_pixels(page)
    for row, column in outside + inside:
        assert abs(px[_on_screen(page, row, column)] - 62).max() <= 2, (row, column)
    assert "Shutter off" in page.locator(".dcmv-tr").inner_text()
    page.locator(".dcmv-shutter").click()
    wait_state(page, shutter="on")
    px = viewport_pixels(page)
    assert (px[_on_screen(page, 4, 4)] == SHUTTER_GREY).all()


def test_shutter_toggle_is_disabled_for_a_file_without_one(
    page: Page, presented: DcmviewProcess
) -> None:
    open_viewer(page, presented)
    open_file(page, file_index(presented, "clean.dcm"))
    assert state(page)["shutter"] == ""
    assert page.locator(".dcmv-shutter").is_disabled()
    assert "Shutter" not in page.locator(".dcmv-tr").inner_text()
