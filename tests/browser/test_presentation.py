"""Presentation facts the file states: the burned-in annotation badge, display shutters."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from .. import dicomgen
from ..harness import DcmviewProcess
from .conftest import TOKEN
from .helpers import file_index, open_viewer


@pytest.fixture(scope="module")
def presented(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DcmviewProcess]:
    root = tmp_path_factory.mktemp("presentation")
    pixels = dicomgen.phantom(64, 64)
    for name, flag in (("burned.dcm", "YES"), ("clean.dcm", "NO")):
        dicomgen.write_image(
            root / name, pixels, patient_id="PRESENT", extra={"BurnedInAnnotation": flag}
        )
    dicomgen.write_image(root / "unsaid.dcm", pixels, patient_id="PRESENT")
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
