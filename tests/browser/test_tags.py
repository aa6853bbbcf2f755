"""The tag browser: filter, sequences, binary lengths, click-to-copy, resizable columns."""

from __future__ import annotations

import contextlib
from pathlib import Path

from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from ..harness import DcmviewProcess
from .helpers import file_index, open_file, open_viewer


def test_tag_filter_finds_patient_id(page: Page, server: DcmviewProcess, artifacts: Path) -> None:
    open_viewer(page, server)
    open_file(page, file_index(server, "marker"))
    page.locator(".dcmv-tag-filter").fill("PatientID")
    row = page.locator('.dcmv-tag-row[data-keyword="PatientID"]')
    row.wait_for()
    assert "BROWSER-MARKER" in row.inner_text()
    assert "(0010,0020)" in row.inner_text()
    assert page.locator(".dcmv-tag-body .dcmv-tag-row").count() <= 3
    page.screenshot(path=str(artifacts / "tag-filter.png"))


ROW_KEYWORDS = (
    "() => [...document.querySelectorAll('.dcmv-tag-body .dcmv-tag-row')]"
    ".map((r) => r.dataset.keyword)"
)


def filtered(page: Page, text: str, expected: list[str]) -> list[str]:
    """Type a filter; return the keywords of the rows shown once they equal `expected`, or
    whatever is shown after a few seconds (the caller's assertion then shows the difference)."""
    page.locator(".dcmv-tag-filter").fill(text)
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(
            f"(e) => JSON.stringify(({ROW_KEYWORDS})()) === JSON.stringify(e)",
            arg=expected,
            timeout=5_000,
        )
    return page.evaluate(ROW_KEYWORDS)


def test_tag_filter_keeps_only_matching_rows(page: Page, server: DcmviewProcess) -> None:
    open_viewer(page, server)
    open_file(page, file_index(server, "marker"))
    page.locator('.dcmv-tag-row[data-keyword="Modality"]').wait_for()
    unfiltered = page.locator(".dcmv-tag-body .dcmv-tag-row").count()
    assert unfiltered > 10
    # By keyword (case-insensitive): the one PixelData row, with its binary length.
    assert filtered(page, "pixeldata", ["PixelData"]) == ["PixelData"]
    row = page.locator('.dcmv-tag-row[data-keyword="PixelData"]')
    assert "binary" in row.inner_text() and "24576 bytes" in row.inner_text()
    # By value: only the element holding "BROWSER-MARKER" (PatientName is Generated^Patient).
    assert filtered(page, "browser-marker", ["PatientID"]) == ["PatientID"]
    # By tag number, with or without punctuation.
    assert filtered(page, "(0008,0060)", ["Modality"]) == ["Modality"]
    assert filtered(page, "00080060", ["Modality"]) == ["Modality"]
    assert filtered(page, "no-such-tag-anywhere", []) == []
    assert page.locator(".dcmv-tag-body").inner_text() == "No tag matches."


def test_click_copies_a_tag(page: Page, server: DcmviewProcess) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_viewer(page, server)
    open_file(page, file_index(server, "marker"))
    page.locator(".dcmv-tag-filter").fill("PatientID")
    page.locator('.dcmv-tag-row[data-keyword="PatientID"]').click()
    page.wait_for_function(
        "() => document.querySelector('.dcmv-notice').textContent.includes('Copied')"
    )
    assert (
        page.evaluate("navigator.clipboard.readText()") == "(0010,0020) PatientID: BROWSER-MARKER"
    )


def test_tag_columns_resize(page: Page, server: DcmviewProcess) -> None:
    open_viewer(page, server)
    open_file(page, file_index(server, "marker"))
    cell = page.locator(".dcmv-tag-head .dcmv-tag-cell").nth(1)
    before = cell.bounding_box()
    grip = cell.locator(".dcmv-col-resize").bounding_box()
    assert before and grip
    page.mouse.move(grip["x"] + 2, grip["y"] + 5)
    page.mouse.down()
    page.mouse.move(grip["x"] + 62, grip["y"] + 5, steps=4)
    page.mouse.up()
    after = cell.bounding_box()
    assert after and after["width"] > before["width"] + 40


def test_side_panes_collapse(page: Page, server: DcmviewProcess) -> None:
    open_viewer(page, server)
    width = page.locator(".dcmv-viewport").bounding_box()["width"]  # type: ignore[index]
    page.locator(".dcmv-toggle-files").click()
    page.locator(".dcmv-tags .dcmv-collapse").click()
    assert not page.locator(".dcmv-files").is_visible()
    assert not page.locator(".dcmv-tags").is_visible()
    page.wait_for_function(
        "(w) => document.querySelector('.dcmv-viewport').getBoundingClientRect().width > w",
        arg=width + 400,
    )
