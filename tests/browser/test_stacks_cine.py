"""Cine across a 200-file 512² CT series at 24 fps in headless Chromium (SPEC §9): every image of
the stack shown, in order, each from its own file, never a blank one.

The rate is a benchmark (``bench/stacks.py``), not a timed test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from .. import dicomgen
from ..harness import DcmviewProcess
from .conftest import TOKEN
from .helpers import ROOT, state, wait_state

FILES = 200

# Records, in the page, every image shown while the stack plays (window.__images:
# [time, position, shown file]) and paints without an image (window.__blank).
STACK_RECORDER = """(selector) => {
    window.__images = [];
    window.__blank = 0;
    const root = document.querySelector(selector);
    let last = `${root.dataset.position}:${root.dataset.shownFile}`;  // already shown
    new MutationObserver(() => {
        const d = root.dataset;
        if (d.shownFile === '-1' || d.source === '') window.__blank++;
        const now = `${d.position}:${d.shownFile}`;
        if (now !== last && d.file === d.shownFile) {
            last = now;
            window.__images.push([performance.now(), Number(d.position), Number(d.shownFile)]);
        }
    }).observe(root, {attributes: true});
}"""


@pytest.fixture(scope="module")
def series_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DcmviewProcess]:
    folder = tmp_path_factory.mktemp("ct200")
    dicomgen.write_ct_series(folder, count=FILES, size=512, patient_id="CINE-STACK")
    with DcmviewProcess("--port", "0", str(folder), env={"DCMVIEW_TOKEN": TOKEN}) as proc:
        proc.wait_scan()
        yield proc


@pytest.mark.slow
def test_cine_plays_every_image_of_a_200_file_stack_in_order(
    page: Page, series_server: DcmviewProcess
) -> None:
    stack = series_server.get("api/series").json()["series"][0]["stacks"][0]
    files = [f["file_index"] for f in stack["frames"]]
    assert len(files) == FILES
    page.goto(series_server.url)  # opens the first listed file, in its stack once it is known
    wait_state(page, stack=stack["id"], state="ready")
    page.locator(".dcmv-slider").fill("0")
    wait_state(page, file=str(files[0]), position="0", stackLength=str(FILES), state="ready")
    page.locator(".dcmv-fps").select_option("24")
    page.evaluate(STACK_RECORDER, ROOT)
    page.keyboard.press("Space")
    wait_state(page, playing="true")
    page.wait_for_function(f"() => window.__images.length >= {FILES}", timeout=120_000)
    page.keyboard.press("Space")
    wait_state(page, playing="false")
    shown = page.evaluate("window.__images")[:FILES]
    positions = [p for _, p, _ in shown]
    # One full pass through the stack across its files: none skipped or repeated.
    assert positions == [*range(1, FILES), 0]
    assert [f for _, _, f in shown] == [files[p] for p in positions]
    assert page.evaluate("window.__blank") == 0
    assert state(page)["stack"] == stack["id"]
