"""The ROI list (coordinates, frame scope, select on click, per-ROI delete), the viewport's zoom
controls, and the explorer rows' matrix, frame count and badges (issue 13)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest
from playwright.sync_api import Page

from .. import dicomgen
from ..harness import DcmviewProcess
from .conftest import TOKEN
from .helpers import annotations, drag, file_index, open_file, open_viewer, state, wait_state


@pytest.fixture(scope="module")
def roi_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DcmviewProcess]:
    root = tmp_path_factory.mktemp("roilist")
    dicomgen.write_multiframe(root, frames=12, rows=96, columns=128, name="cine.dcm")
    dicomgen.write_no_pixels(root, patient_id="SR")
    # A transfer syntax no decoder here handles (MPEG-2): header readable, pixels not.
    rle = dicomgen.write_syntax(root, "1.2.840.10008.1.2.5", name="mpeg.dcm", patient_id="MPEG")
    ds = pydicom.dcmread(rle.path)
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.100"
    ds.save_as(rle.path)
    with DcmviewProcess("--port", "0", str(root), env={"DCMVIEW_TOKEN": TOKEN}) as proc:
        proc.wait_scan()
        yield proc


def _rows(page: Page) -> list[dict[str, str]]:
    return page.evaluate(
        """() => [...document.querySelectorAll('.dcmv-roi')].map((li) => ({
            box: li.querySelector('.dcmv-roi-box').textContent,
            scope: li.querySelector('.dcmv-roi-scope').textContent,
            selected: li.getAttribute('aria-selected')}))"""
    )


def test_roi_list_shows_selects_and_deletes(page: Page, roi_server: DcmviewProcess) -> None:
    open_viewer(page, roi_server)
    i = file_index(roi_server, "cine.dcm")
    open_file(page, i)
    assert "None yet" in page.locator(".dcmv-rois").inner_text()
    page.keyboard.press("r")
    drag(page, (0.35, 0.35), (0.5, 0.55))
    wait_state(page, rois="1", save="saved")
    # The new ROI belongs to this frame only.
    page.select_option(".dcmv-scope", "frame")
    page.wait_for_function(
        "() => document.querySelector('.dcmv-roi-scope').textContent === 'frame 1'"
    )
    drag(page, (0.6, 0.6), (0.7, 0.75))
    wait_state(page, rois="2", save="saved")
    page.wait_for_function("() => document.querySelectorAll('.dcmv-roi').length === 2")
    saved = annotations(roi_server, i)
    rows = _rows(page)
    assert [r["box"] for r in rows] == [
        "[" + ", ".join(str(v) for v in box) + "]" for box in saved["roi_coords"]
    ]
    assert saved["roi_frames"][0] == [0]
    assert rows[0]["scope"] == "frame 1"

    # On another frame, a click on the first ROI shows its frame and selects it.
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    wait_state(page, shownFrame="4")
    page.locator('.dcmv-roi[data-roi="0"]').click()
    wait_state(page, shownFrame="0", selected="0")
    assert _rows(page)[0]["selected"] == "true"

    # × deletes that ROI only; the other stays, on the server too.
    second = saved["roi_coords"][1]
    page.locator('.dcmv-roi[data-roi="0"] .dcmv-roi-delete').click()
    wait_state(page, rois="1", save="saved")
    assert annotations(roi_server, i)["roi_coords"] == [second]
    assert len(_rows(page)) == 1


def test_zoom_controls(page: Page, roi_server: DcmviewProcess) -> None:
    open_viewer(page, roi_server)
    open_file(page, file_index(roi_server, "cine.dcm"))
    before = state(page)
    fit = float(before["zoom"])
    page.locator(".dcmv-zoom-in").click()
    zoom = "Number(document.querySelector('#dcmview-root').dataset.zoom)"
    page.wait_for_function(f"() => Math.abs({zoom} - {fit * 1.25}) < 1e-3")
    pct = page.locator(".dcmv-zoom-pct").inner_text()
    assert pct == f"{round(fit * 125)}%"
    page.locator(".dcmv-zoom-out").click()
    page.locator(".dcmv-zoom-out").click()
    page.wait_for_function(f"() => {zoom} < {fit * 0.9}")
    page.locator(".dcmv-zoom-pct").click()
    wait_state(page, zoom="1.0000")
    assert page.locator(".dcmv-zoom-pct").inner_text() == "100%"
    page.locator(".dcmv-zoom-fit").click()
    wait_state(page, zoom=f"{fit:.4f}")
    after = state(page)
    # Clicks on the controls are not W/L drags or ROIs.
    assert (after["wc"], after["ww"], after["rois"]) == (before["wc"], before["ww"], before["rois"])


def test_explorer_rows_show_matrix_frames_and_badges(
    page: Page, roi_server: DcmviewProcess, artifacts: Path
) -> None:
    open_viewer(page, roi_server)

    def row(name: str) -> str:
        return page.locator(f'.dcmv-file[data-file="{file_index(roi_server, name)}"]').inner_text()

    assert "128×96 · 12 fr" in row("cine.dcm")
    assert "no pixels" in row("report_sr.dcm")
    assert "unsupported" in row("mpeg.dcm")
    assert "unsupported" not in row("cine.dcm") and "no pixels" not in row("cine.dcm")
    page.locator(".dcmv-files").screenshot(path=str(artifacts / "explorer.png"))
