"""Layers in the viewer (SPEC §10): a SEG over a CT series is drawn in its segment colours at
the segment's pixels, the panel's toggle hides it, its opacity changes the blend, and scrolling
the stack shows each image's own slice of the SEG (and nothing on images it does not cover)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Page

from .. import layergen as lg
from ..harness import DcmviewProcess
from .conftest import TOKEN
from .helpers import ROOT, image_box, viewport_pixels, wait_state

SIZE = 64
SLICES = 6
MASK = np.zeros((SLICES, SIZE, SIZE), np.uint8)
MASK[2, 10:30, 5:25] = 1  # "Liver", red
MASK[3, 36:56, 36:60] = 2  # "Lesion", lime
RED, LIME = np.array([255, 0, 0]), np.array([0, 255, 0])


@pytest.fixture(scope="module")
def seg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DcmviewProcess]:
    root = tmp_path_factory.mktemp("layers-browser")
    ct = lg.write_ct(root / "ct", count=SLICES, rows=SIZE, columns=SIZE)
    lg.write_seg(root / "ct" / "seg.dcm", ct, MASK)
    with DcmviewProcess("--port", "0", str(root / "ct"), env={"DCMVIEW_TOKEN": TOKEN}) as proc:
        proc.wait_layers()
        yield proc


def _stack(server: DcmviewProcess) -> dict:
    stacks = [s for series in server.get("api/series").json()["series"] for s in series["stacks"]]
    return next(s for s in stacks if len(s["frames"]) == SLICES)


def _screen(page: Page, pixels: np.ndarray, row: int, column: int) -> np.ndarray:
    """The screenshot pixel at the centre of image pixel (row, column) (the image fits the
    canvas, centred, at zoom 1)."""
    height, width = pixels.shape[:2]
    scale = min(width / SIZE, height / SIZE)
    x = width / 2 + scale * (column + 0.5 - SIZE / 2)
    y = height / 2 + scale * (row + 0.5 - SIZE / 2)
    return pixels[int(y), int(x)]


def _coloured(pixel: np.ndarray) -> bool:
    return int(np.abs(np.diff(pixel)).max()) > 12


def _open(page: Page, server: DcmviewProcess, position: int, url: str | None = None) -> dict:
    stack = _stack(server)
    page.goto(url or server.url)
    page.wait_for_function(f"() => document.querySelector('{ROOT}')?.dataset.state === 'ready'")
    file_index = stack["frames"][position]["file_index"]
    page.locator(f'.dcmv-file[data-file="{file_index}"]').click()
    wait_state(page, shownFile=str(file_index), state="ready", position=str(position))
    return stack


def _layer_id(server: DcmviewProcess) -> str:
    return next(layer["id"] for layer in server.get("api/layers").json())


def test_seg_is_drawn_in_its_colour_on_its_pixels_and_toggles_off(
    page: Page, seg_server: DcmviewProcess, artifacts: Path
) -> None:
    layer = _layer_id(seg_server)
    _open(page, seg_server, 2)
    wait_state(page, layersShown=layer)
    shown = viewport_pixels(page, artifacts / "with-layer.png")
    page.locator(f'.dcmv-layer[data-layer="{layer}"] .dcmv-layer-visible').uncheck()
    wait_state(page, layersShown="")
    page.wait_for_timeout(100)  # the repaint after the toggle
    base = viewport_pixels(page, artifacts / "without-layer.png")
    inside = [(12, 7), (20, 15), (28, 23)]
    for row, column in inside:
        want = 0.5 * RED + 0.5 * _screen(page, base, row, column)
        np.testing.assert_allclose(_screen(page, shown, row, column), want, atol=3)
    for row, column in [(8, 15), (20, 27), (40, 40), (31, 4)]:  # just outside the segment
        np.testing.assert_array_equal(
            _screen(page, shown, row, column), _screen(page, base, row, column)
        )
    assert not _coloured(_screen(page, base, 20, 15))


def test_canvas_2d_fallback_draws_the_same_blend(page: Page, seg_server: DcmviewProcess) -> None:
    layer = _layer_id(seg_server)
    _open(page, seg_server, 3, url=seg_server.url.replace("/#", "/?renderer=2d#"))
    wait_state(page, layersShown=layer, renderer="2d")
    page.wait_for_timeout(100)
    shown = viewport_pixels(page)
    page.locator(f'.dcmv-layer[data-layer="{layer}"] .dcmv-layer-visible').uncheck()
    wait_state(page, layersShown="")
    page.wait_for_timeout(100)
    base = viewport_pixels(page)
    want = 0.5 * LIME + 0.5 * _screen(page, base, 45, 48)
    np.testing.assert_allclose(_screen(page, shown, 45, 48), want, atol=3)
    np.testing.assert_array_equal(_screen(page, shown, 20, 15), _screen(page, base, 20, 15))


def test_opacity_changes_the_blend(page: Page, seg_server: DcmviewProcess) -> None:
    layer = _layer_id(seg_server)
    _open(page, seg_server, 2)
    wait_state(page, layersShown=layer)
    page.wait_for_selector(f'.dcmv-layer[data-layer="{layer}"] .dcmv-layer-opacity')
    slider = page.locator(f'.dcmv-layer[data-layer="{layer}"] .dcmv-layer-opacity')
    half = _screen(page, viewport_pixels(page), 20, 15)
    slider.evaluate("(el) => { el.value = '100'; el.dispatchEvent(new Event('input')); }")
    page.wait_for_timeout(150)
    full = _screen(page, viewport_pixels(page), 20, 15)
    np.testing.assert_allclose(full, RED, atol=2)
    slider.evaluate("(el) => { el.value = '0'; el.dispatchEvent(new Event('input')); }")
    page.wait_for_timeout(150)
    none = _screen(page, viewport_pixels(page), 20, 15)
    assert not _coloured(none)
    np.testing.assert_allclose(half, 0.5 * RED + 0.5 * none, atol=3)


def test_scrolling_shows_each_images_own_slice(page: Page, seg_server: DcmviewProcess) -> None:
    layer = _layer_id(seg_server)
    _open(page, seg_server, 0)
    box = image_box(page)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for position in range(SLICES):
        if position:
            page.mouse.wheel(0, 50)  # one image per 50 px of wheel
        covered = bool(MASK[position].any())
        wait_state(
            page, position=str(position), state="ready", layersShown=layer if covered else ""
        )
        page.wait_for_timeout(50)
        pixels = viewport_pixels(page)
        liver, lesion = _screen(page, pixels, 20, 15), _screen(page, pixels, 45, 48)
        assert _coloured(liver) == (position == 2), position
        assert _coloured(lesion) == (position == 3), position
        if position == 2:
            assert liver[0] > liver[1] + 60  # red, not lime
        if position == 3:
            assert lesion[1] > lesion[0] + 60


def test_panel_legend_names_the_segments(page: Page, seg_server: DcmviewProcess) -> None:
    layer = _layer_id(seg_server)
    _open(page, seg_server, 2)
    legend = page.locator(f'.dcmv-layer[data-layer="{layer}"] .dcmv-labels li')
    legend.first.wait_for()
    assert legend.all_inner_texts() == ["Liver", "Lesion"]
    # The value under the cursor names the segment.
    pixels = viewport_pixels(page)
    height, width = pixels.shape[:2]
    scale = min(width / SIZE, height / SIZE)
    box = page.locator(".dcmv-image").bounding_box()
    assert box is not None
    page.mouse.move(
        box["x"] + width / 2 + scale * (15.5 - SIZE / 2),
        box["y"] + height / 2 + scale * (20.5 - SIZE / 2),
    )
    page.wait_for_function(
        "() => document.querySelector('.dcmv-bl')?.innerText.includes('seg.dcm: Liver')"
    )


def test_outline_mode_keeps_only_the_segment_edge(page: Page, seg_server: DcmviewProcess) -> None:
    layer = _layer_id(seg_server)
    _open(page, seg_server, 2)
    wait_state(page, layersShown=layer)
    page.locator(f'.dcmv-layer[data-layer="{layer}"] .dcmv-layer-mode').select_option("outline")
    page.wait_for_timeout(150)
    pixels = viewport_pixels(page)
    assert _coloured(_screen(page, pixels, 10, 15))  # the segment's first row: its edge
    assert _coloured(_screen(page, pixels, 20, 5))  # its first column
    assert not _coloured(_screen(page, pixels, 20, 15))  # inside


@pytest.fixture(scope="module")
def dose_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DcmviewProcess]:
    folder = tmp_path_factory.mktemp("layers-dose")
    lg.ct_for_rtdose(folder)  # 15 CT slices of 40², each dose pixel over 4 × 4 image pixels
    with DcmviewProcess("--port", "0", str(folder), env={"DCMVIEW_TOKEN": TOKEN}) as proc:
        proc.wait_layers()
        yield proc


def test_dose_is_drawn_through_its_colour_map_with_a_colour_bar(
    page: Page, dose_server: DcmviewProcess
) -> None:
    """RT Dose (float32 on the GPU): a dose well above the minimum is drawn in the hot map's
    red-to-yellow, the legend is a colour bar with the range and units, and the readout gives
    the dose under the cursor."""
    layer = next(entry for entry in dose_server.get("api/layers").json())
    assert layer["kind"] == "heatmap" and layer["units"] == "relative"
    stack = next(
        s
        for series in dose_server.get("api/series").json()["series"]
        for s in series["stacks"]
        if s["id"] == layer["stack_id"]
    )
    page.goto(dose_server.url)  # it opens the first file: the RT Dose object itself
    page.wait_for_function(
        f"() => ['ready', 'error'].includes(document.querySelector('{ROOT}')?.dataset.state)"
    )
    ct_file = stack["frames"][7]["file_index"]
    page.locator(f'.dcmv-file[data-file="{ct_file}"]').click()
    wait_state(page, shownFile=str(ct_file), state="ready", layersShown=layer["id"])
    page.wait_for_timeout(100)
    size = 40
    pixels = viewport_pixels(page)
    height, width = pixels.shape[:2]
    scale = min(width / size, height / size)

    def at(row: float, column: float) -> np.ndarray:
        return pixels[
            int(height / 2 + scale * (row + 0.5 - size / 2)),
            int(width / 2 + scale * (column + 0.5 - size / 2)),
        ]

    warm = at(20, 20)  # dose grid row 5: 40 % of the way up the range
    assert warm[0] > warm[2] + 80, warm  # red-to-yellow, not the grey image
    bar = page.locator(f'.dcmv-layer[data-layer="{layer["id"]}"] .dcmv-colorbar-range')
    assert bar.inner_text().count("relative") == 2
    box = page.locator(".dcmv-image").bounding_box()
    assert box is not None
    page.mouse.move(
        box["x"] + width / 2 + scale * (20.5 - size / 2),
        box["y"] + height / 2 + scale * (20.5 - size / 2),
    )
    page.wait_for_function(
        "(re) => new RegExp(re).test(document.querySelector('.dcmv-bl')?.innerText)",
        arg=r"rtdose\.dcm: 0\.9\d* relative",
    )
