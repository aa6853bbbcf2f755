"""Nothing to show says what happened and what to do, and claims no "ROIs saved" (issue 13):
an empty folder under ``--keep-empty``, and a folder with files but no DICOM among them (what
the Jupyter launcher meets in a home folder without images)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from .. import dicomgen
from ..harness import DcmviewProcess
from .conftest import TOKEN
from .helpers import wait_state


@pytest.mark.parametrize("content", ["nothing", "no-dicom"])
def test_no_dicom_says_what_happened_and_what_to_do(
    page: Page, tmp_path: Path, content: str, artifacts: Path
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    if content == "no-dicom":
        dicomgen.write_not_dicom(folder)
        (folder / "readme.txt").write_text("not an image\n")
    args = ("--port", "0", "--keep-empty", str(folder))
    with DcmviewProcess(*args, env={"DCMVIEW_TOKEN": TOKEN}) as server:
        server.wait_scan()
        page.goto(server.url)
        wait_state(page, state="empty")
        message = page.locator(".dcmv-message")
        message.wait_for(state="visible")
        text = message.inner_text()
        page.screenshot(path=str(artifacts / f"empty-{content}.png"))
    assert "No DICOM files here" in text
    assert "dcmview /path/to/study" in text, "it says what to do"
    if content == "no-dicom":
        assert "looked at 2 files" in text
    else:
        assert "holds no files" in text
    assert page.locator(".dcmv-save").inner_text().strip() == "", "no ROIs to call saved"
