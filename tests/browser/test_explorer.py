"""The file explorer and tabs: grouping, filter, opening and closing tabs, 500+ files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Page
from pydicom.uid import generate_uid

from .. import dicomgen
from ..harness import DcmviewProcess
from .conftest import TOKEN
from .helpers import file_index, open_file, open_viewer, wait_state

# The count set as wide as 10,000 files make it (kept until the filter changes); its box and
# line height, and the pane's width.
COUNT_OF_10000 = """
() => {
  const count = document.querySelector(".dcmv-files .dcmv-pane-count");
  count.textContent = "10000 of 10000";
  const pane = document.querySelector(".dcmv-files").getBoundingClientRect();
  const box = count.getBoundingClientRect();
  return {
    paneWidth: pane.width,
    paneRight: pane.right,
    right: box.right,
    height: box.height,
    lineHeight: parseFloat(getComputedStyle(count).lineHeight),
  };
}
"""

# Where the first ("/") and last characters of the folder view's root path are drawn in a pane
# at its narrowest (150 px), and the edges of the root's box.
ROOT_IN_NARROW_PANE = """
() => {
  const pane = document.querySelector(".dcmv-files");
  pane.style.width = "150px";
  const root = document.querySelector(".dcmv-tree-root");
  const text = document.createTreeWalker(root, NodeFilter.SHOW_TEXT).nextNode();
  const n = text.data.length;
  const at = (i) => {
    const range = document.createRange();
    range.setStart(text, i);
    range.setEnd(text, i + 1);
    return range.getBoundingClientRect();
  };
  const box = root.getBoundingClientRect();
  const out = {
    text: root.textContent,
    slashLeft: at(0).left,
    lastLeft: at(n - 1).left,
    lastRight: at(n - 1).right,
    boxLeft: box.left,
    boxRight: box.right,
  };
  pane.style.width = "";
  return out;
}
"""


def test_tree_groups_and_filter_narrows_it(page: Page, server: DcmviewProcess) -> None:
    open_viewer(page, server)
    patients = page.locator(".dcmv-patient .dcmv-node-label").all_inner_texts()
    assert any(p.startswith("BROWSER-CT") for p in patients)
    page.locator(".dcmv-files .dcmv-filter").fill("slice_00")
    page.wait_for_function("() => document.querySelectorAll('.dcmv-file').length === 5")
    assert page.locator(".dcmv-pane-count").inner_text().startswith("5 of")
    # The widest count (a filter over 10,000 files) stays on one line inside the 250 px pane.
    count = page.evaluate(COUNT_OF_10000)
    assert count["paneWidth"] == 250
    assert count["height"] == pytest.approx(count["lineHeight"], abs=1)
    assert count["right"] <= count["paneRight"]
    page.locator(".dcmv-files .dcmv-filter").fill("nothing-matches-this")
    page.locator(".dcmv-tree .dcmv-empty").wait_for()
    page.locator(".dcmv-files .dcmv-filter").fill("")
    # Folding a series hides its files.
    series = page.locator(".dcmv-series", has_text="CT")
    series.first.click()
    page.wait_for_function("() => !document.querySelector('.dcmv-file[title$=\"slice_001.dcm\"]')")


def test_folder_view_groups_by_directory(page: Page, server: DcmviewProcess, study: Path) -> None:
    open_viewer(page, server)
    page.locator('.dcmv-tree-mode[data-mode="folder"]').click()
    # The root folder reads left to right with its leading "/" first; too long for a narrow
    # pane, it is cut at the left so its end stays in view.
    root = page.evaluate(ROOT_IN_NARROW_PANE)
    assert root["text"].startswith("/") and root["text"].endswith(study.name)
    assert root["slashLeft"] < root["lastLeft"]
    assert root["slashLeft"] < root["boxLeft"] and root["lastRight"] <= root["boxRight"]
    folders = page.locator(".dcmv-folder > .dcmv-node-label").all_inner_texts()
    assert {"ct", "mf", "marker", "colour", "broken"} <= set(folders)
    ct = page.locator(".dcmv-folder", has_text="ct").first
    assert ct.locator(".dcmv-node-count").inner_text() == "5"
    ct_files = page.locator('.dcmv-file[title*="/ct/"]')
    assert ct_files.count() == 5
    # The folder's files are listed right under it, one level deeper.
    first_file = page.locator(".dcmv-folder:has-text('ct') + .dcmv-file")
    assert first_file.get_attribute("title").endswith("/ct/slice_001.dcm")
    assert int(first_file.get_attribute("aria-level")) == int(ct.get_attribute("aria-level")) + 1
    # Opening a file from the folder view works, and the filter still applies.
    index = file_index(server, "cine12")
    page.locator(f'.dcmv-file[data-file="{index}"]').click()
    wait_state(page, file=str(index), state="ready")
    page.locator(".dcmv-files .dcmv-filter").fill("marker")
    page.wait_for_function("() => document.querySelectorAll('.dcmv-file').length === 1")
    page.locator('.dcmv-tree-mode[data-mode="study"]').click()
    assert page.locator(".dcmv-patient").count() == 1


def test_tabs_are_labelled_and_close(page: Page, server: DcmviewProcess) -> None:
    open_viewer(page, server)
    a = file_index(server, "slice_001")
    b = file_index(server, "marker")
    open_file(page, a)
    open_file(page, b)
    label = server.get("api/files").json()["files"][b]["label"]
    active = page.locator('.dcmv-tab[aria-selected="true"]')
    assert active.inner_text().startswith(label)
    assert label.startswith("BROWSER-MARKER · MR · ")
    page.locator(f'.dcmv-tab[data-file="{a}"]').click()
    wait_state(page, file=str(a))
    page.locator(f'.dcmv-tab[data-file="{a}"] .dcmv-tab-close').click()
    wait_state(page, file=str(b))
    assert page.locator(f'.dcmv-tab[data-file="{a}"]').count() == 0


@pytest.fixture(scope="module")
def many_files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DcmviewProcess]:
    folder = tmp_path_factory.mktemp("many")
    pixels = dicomgen.phantom(16, 16)
    studies = [generate_uid() for _ in range(3)]
    for series in range(10):
        series_uid = generate_uid()
        for i in range(55):
            dicomgen.write_image(
                folder / f"s{series:02d}" / f"i{i:03d}.dcm",
                pixels + np.uint16(i),
                patient_id=f"MANY-{series % 3}",
                study_uid=studies[series % 3],
                series_uid=series_uid,
                series_number=series + 1,
                instance_number=i + 1,
            )
    with DcmviewProcess("--port", "0", str(folder), env={"DCMVIEW_TOKEN": TOKEN}) as proc:
        proc.wait_scan(timeout=120)
        yield proc


@pytest.mark.slow
def test_550_files_stay_usable(page: Page, many_files: DcmviewProcess) -> None:
    open_viewer(page, many_files)
    assert "550 files loaded" in page.inner_text(".dcmv-status")
    # Series start folded above 300 files; only the series of the open file is unfolded.
    page.wait_for_function("() => document.querySelectorAll('.dcmv-file').length === 55")
    assert page.locator('.dcmv-file[aria-selected="true"]').count() == 1
    page.locator(".dcmv-files .dcmv-filter").fill("i054")
    page.wait_for_function("() => document.querySelectorAll('.dcmv-file').length === 10")
    page.locator(".dcmv-file").nth(3).click()
    wait_state(page, state="ready", source="raw")
