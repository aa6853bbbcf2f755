"""What a user reads around the image stays readable (issue 13): the status bar keeps its line on
a file with many tags, the overlay text has a dark backing on a bright image, the window label
names where the window came from, and the tag panel's Value column fits and wraps between words.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image
from playwright.sync_api import Page

from .. import dicomgen
from ..harness import DcmviewProcess
from .conftest import TOKEN
from .helpers import file_index, image_box, open_file, open_viewer

# Words of many lengths: a column that breaks anywhere splits some of them at a line's end.
COMMENT = " ".join(["Portal venous phase abdomen with oral contrast, reconstructed"] * 8)


@pytest.fixture(scope="module")
def chrome_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DcmviewProcess]:
    root = tmp_path_factory.mktemp("readable")
    ramp = np.tile(np.arange(0, 4000, 40, dtype=np.uint16), (80, 1))
    tags = dicomgen.write_image(root / "a_tags.dcm", ramp, window=(2000, 4000), patient_id="TAGS")
    ds = pydicom.dcmread(tags)
    ds.add_new(0x00110010, "LO", "DCMVIEW TEST")
    for i in range(400):
        ds.add_new(0x00111000 + i, "LO", f"private value {i}")
    ds.ImageComments = COMMENT
    ds.save_as(tags)
    bright = np.full((96, 128), 4000, dtype=np.uint16)
    dicomgen.write_image(root / "b_bright.dcm", bright, window=(500, 200), patient_id="BRIGHT")
    dicomgen.write_image(root / "c_auto.dcm", ramp, patient_id="AUTO")  # no window: percentiles
    with DcmviewProcess("--port", "0", str(root), env={"DCMVIEW_TOKEN": TOKEN}) as proc:
        proc.wait_scan()
        yield proc


def _grey(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)


def test_status_bar_keeps_its_height_with_many_tags(
    page: Page, chrome_server: DcmviewProcess
) -> None:
    open_viewer(page, chrome_server)
    open_file(page, file_index(chrome_server, "a_tags"))
    page.wait_for_function("() => document.querySelectorAll('.dcmv-tag-row').length > 300")
    bar = page.evaluate(
        """() => { const s = document.querySelector('.dcmv-status');
            const t = document.querySelector('.dcmv-status-files');
            return {h: s.getBoundingClientRect().height, text: t.getBoundingClientRect().height,
                    scroll: s.scrollHeight, client: s.clientHeight}; }"""
    )
    assert bar["h"] >= 20, bar
    assert bar["scroll"] <= bar["client"] + 1, f"the status text is cut: {bar}"


def test_tag_value_column_fits_the_default_width(page: Page, chrome_server: DcmviewProcess) -> None:
    open_viewer(page, chrome_server)
    open_file(page, file_index(chrome_server, "a_tags"))
    page.wait_for_function("() => document.querySelectorAll('.dcmv-tag-row').length > 300")
    fit = page.evaluate(
        """() => { const t = document.querySelector('.dcmv-tag-table');
            const head = [...document.querySelectorAll('.dcmv-tag-head .dcmv-tag-cell')];
            const value = head[3].getBoundingClientRect();
            const box = t.getBoundingClientRect();
            return {right: value.right, visible: box.left + t.clientWidth, width: value.width,
                    scroll: t.scrollWidth, client: t.clientWidth}; }"""
    )
    assert fit["right"] <= fit["visible"] + 1, f"the Value column is clipped: {fit}"
    assert fit["scroll"] <= fit["client"] + 1, fit
    assert fit["width"] >= 100, fit


def test_tag_values_wrap_between_words(page: Page, chrome_server: DcmviewProcess) -> None:
    open_viewer(page, chrome_server)
    open_file(page, file_index(chrome_server, "a_tags"))
    page.wait_for_function("() => document.querySelectorAll('.dcmv-tag-row').length > 300")
    broken = page.evaluate(
        """() => { const sel = '.dcmv-tag-row[data-keyword="ImageComments"]';
            const cell = document.querySelector(sel).querySelector('.dcmv-tag-value');
            const text = cell.firstChild;
            const out = []; let at = 0;
            for (const w of text.textContent.split(' ')) {
                const r = document.createRange();
                r.setStart(text, at); r.setEnd(text, at + w.length);
                if (r.getClientRects().length !== 1) out.push(w);
                at += w.length + 1;
            }
            return {broken: out, height: Math.round(cell.getBoundingClientRect().height)}; }"""
    )
    assert broken["height"] > 60, "the long value wraps onto several lines"
    assert broken["broken"] == [], f"words split across lines: {broken}"


def test_overlay_text_has_a_dark_backing_on_a_bright_image(
    page: Page, chrome_server: DcmviewProcess, artifacts: Path
) -> None:
    open_viewer(page, chrome_server)
    open_file(page, file_index(chrome_server, "b_bright"))
    # Zoom in until the white image lies under the corner (not the black margin around it).
    view = image_box(page)
    page.mouse.move(view["x"] + view["width"] / 2, view["y"] + view["height"] / 2)
    page.keyboard.down("Control")
    for _ in range(12):
        page.mouse.wheel(0, -240)
    page.keyboard.up("Control")
    page.wait_for_function("() => Number(document.querySelector('#dcmview-root').dataset.zoom) > 8")
    page.wait_for_timeout(300)
    box = page.locator(".dcmv-tl").bounding_box()
    assert box and box["width"] > 20
    beside = {**box, "x": box["x"] + box["width"] + 4, "width": 20}
    assert _grey(page.screenshot(clip=beside)).mean() > 200, "the image beside the corner is white"
    png = page.screenshot(clip=box)
    (artifacts / "overlay-corner.png").write_bytes(png)
    grey = _grey(png)
    assert grey.mean() < 110, f"overlay corner mean brightness {grey.mean():.0f} on a white image"
    text = page.locator(".dcmv-viewport").inner_text()
    assert "WebGL" not in text and "Canvas 2D" not in text


def test_window_label_names_the_percentile_fallback(
    page: Page, chrome_server: DcmviewProcess
) -> None:
    open_viewer(page, chrome_server)
    open_file(page, file_index(chrome_server, "c_auto"))
    page.wait_for_function("() => /percentile/.test(document.querySelector('.dcmv-tr').innerText)")
    assert "DICOM" not in page.locator(".dcmv-tr").inner_text()
    open_file(page, file_index(chrome_server, "a_tags"))
    page.wait_for_function(
        "() => /W 4000 L 2000 \\(Default \\(DICOM\\)\\)/.test("
        "document.querySelector('.dcmv-tr').innerText)"
    )
