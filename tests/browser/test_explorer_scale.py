"""The file explorer with 3,000 files: every file reachable, deep files open, the DOM stays small.

Only the rows near the visible part of the list exist, so these tests scroll the list the way a
person does and collect what it showed. Nothing here is timed (speed: ``bench/scale.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page
from pydicom.uid import generate_uid

from .. import dicomgen
from ..harness import DcmviewProcess
from .conftest import TOKEN
from .helpers import open_viewer, wait_state

pytestmark = pytest.mark.slow

PATIENTS, SERIES, SLICES = 12, 5, 50
TOTAL = PATIENTS * SERIES * SLICES
# Rows in the DOM at once: the visible ones and a margin, far below the 3,000+ rows of the list.
MOST_ROWS = 300
DEEPEST = f"p{PATIENTS - 1:02d}/se{SERIES}/i{SLICES:04d}.dcm"

# Scroll the explorer from top to bottom one screen at a time; what it showed on the way.
COLLECT = """
async () => {
  const tree = document.querySelector(".dcmv-tree");
  const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const files = new Set();
  let mostRows = 0;
  tree.scrollTop = 0;
  for (;;) {
    await frame();
    for (const el of tree.querySelectorAll(".dcmv-file")) files.add(el.title);
    mostRows = Math.max(mostRows, tree.querySelectorAll("[role=treeitem]").length);
    if (tree.scrollTop + tree.clientHeight >= tree.scrollHeight - 1) break;
    tree.scrollTop += tree.clientHeight;
  }
  return { files: [...files], mostRows };
}
"""


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DcmviewProcess]:
    folder = tmp_path_factory.mktemp("explorer-scale")
    for p in range(PATIENTS):
        study = generate_uid()
        for s in range(SERIES):
            dicomgen.write_tiny_series(
                folder / f"p{p:02d}" / f"se{s + 1}",
                count=SLICES,
                patient_id=f"SCALE-T-{p:02d}",
                study_date=f"202401{p + 1:02d}",  # the server lists patients in this order
                study_uid=study,
                series_number=s + 1,
            )
    with DcmviewProcess("--port", "0", str(folder), env={"DCMVIEW_TOKEN": TOKEN}) as proc:
        proc.wait_scan(timeout=120)
        yield proc


def filter_files(page: Page, text: str, count: str) -> None:
    page.locator(".dcmv-files .dcmv-filter").fill(text)
    page.wait_for_function(
        "(c) => document.querySelector('.dcmv-files .dcmv-pane-count').textContent === c",
        arg=count,
    )


def test_every_file_is_listed_while_the_dom_stays_small(page: Page, big: DcmviewProcess) -> None:
    open_viewer(page, big)
    filter_files(page, ".dcm", f"{TOTAL} of {TOTAL}")  # every group unfolded
    shown = page.evaluate(COLLECT)
    assert len(shown["files"]) == TOTAL
    assert shown["mostRows"] <= MOST_ROWS


def test_the_deepest_file_opens_from_the_list(page: Page, big: DcmviewProcess) -> None:
    open_viewer(page, big)
    filter_files(page, ".dcm", f"{TOTAL} of {TOTAL}")
    page.evaluate("() => { const t = document.querySelector('.dcmv-tree'); t.scrollTop = 1e9; }")
    row = page.locator(f'.dcmv-file[title$="{DEEPEST}"]')
    index = row.get_attribute("data-file")
    row.click()
    wait_state(page, file=str(index), state="ready", source="raw", shownFrame="0")
    assert row.get_attribute("aria-selected") == "true"


def test_a_narrow_filter_lists_exactly_its_files(page: Page, big: DcmviewProcess) -> None:
    open_viewer(page, big)
    filter_files(page, "SCALE-T-07", f"{SERIES * SLICES} of {TOTAL}")
    shown = page.evaluate(COLLECT)
    assert len(shown["files"]) == SERIES * SLICES
    assert all("/p07/" in path for path in shown["files"])


def test_without_a_filter_only_the_open_files_series_is_unfolded(
    page: Page, big: DcmviewProcess
) -> None:
    open_viewer(page, big)
    shown = page.evaluate(COLLECT)
    assert {Path(p).parent.name for p in shown["files"]} == {"se1"}
    assert len(shown["files"]) == SLICES
    assert page.locator('.dcmv-series[aria-expanded="false"]').count() > 0


def test_switching_to_a_files_tab_unfolds_and_scrolls_to_its_row(
    page: Page, big: DcmviewProcess
) -> None:
    open_viewer(page, big)
    first = page.locator('.dcmv-tab[aria-selected="true"]').get_attribute("data-file")
    filter_files(page, DEEPEST, f"1 of {TOTAL}")
    page.locator(".dcmv-file").click()
    deep = page.locator('.dcmv-tab[aria-selected="true"]').get_attribute("data-file")
    assert deep != first
    filter_files(page, "", str(TOTAL))  # the deep file's series folds again
    page.locator(f'.dcmv-tab[data-file="{first}"]').click()
    wait_state(page, file=str(first))
    page.locator(f'.dcmv-tab[data-file="{deep}"]').click()
    wait_state(page, file=str(deep), state="ready")
    row = page.locator(f'.dcmv-file[data-file="{deep}"]')
    assert row.get_attribute("aria-selected") == "true"
    tree, box = page.locator(".dcmv-tree").bounding_box(), row.bounding_box()
    assert tree and box
    assert tree["y"] <= box["y"] and box["y"] + box["height"] <= tree["y"] + tree["height"]
