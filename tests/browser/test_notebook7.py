"""dcmview.Viewer in a real Notebook 7, driven in headless Chromium (SPEC §1 Notebook).

Notebook 7 runs its command-mode shortcuts (``r`` raw cell, arrows, ``z``) before a widget sees the
key, unlike JupyterLab: the viewer's keys must reach the viewer and leave the notebook alone.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page

from ..jupyter_harness import JupyterProcess, run_notebook_cell, widget_notebook

pytest.importorskip("notebook")
pytest.importorskip("ipykernel")

WIDGET = ".dcmv-widget"
CELLS = ".jp-Notebook .jp-Cell"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page whose uncaught errors fail the test, except one Notebook 7.6 raises by itself
    at start-up (seen with no widget at all: a settings schema read in its own core bundle)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    errors: list[str] = []

    def record(e: Exception) -> None:
        stack = getattr(e, "stack", "") or ""
        first = next((ln for ln in stack.splitlines() if ln.strip().startswith("at ")), "")
        if "reading 'schema'" in str(e) and "/static/notebook/notebook_core." in first:
            return
        errors.append(f"{e}\n{stack[:800]}")

    pg.on("pageerror", record)
    yield pg
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture(scope="module")
def nb7(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterProcess]:
    cells = [
        "import dcmview\nviewer = dcmview.Viewer([r'{data}'])\nviewer",
        'print("FRAME", viewer.frame, "TOOL", viewer.tool)',
        'print("ROIS", list(viewer.annotations.values()))',
        "viewer.frame = 4\nviewer.tool = 'pan'",
    ]
    server = widget_notebook(tmp_path_factory.mktemp("nb7"), "notebook", cells)
    yield server
    server.stop()


def _output(page: Page, index: int, pattern: str) -> str:
    """Run cell `index` and wait until its output matches `pattern`; the output text."""
    run_notebook_cell(page, index)
    page.wait_for_function(
        """([sel, i, p]) => { const c = document.querySelectorAll(sel)[i];
            const o = c && c.querySelector('.jp-OutputArea');
            return !!o && new RegExp(p).test(o.innerText); }""",
        arg=[CELLS, index, pattern],
        timeout=20_000,
    )
    return page.locator(CELLS).nth(index).locator(".jp-OutputArea").inner_text()


def _pixels(page: Page) -> np.ndarray:
    png = page.locator(f"{WIDGET} .dcmv-viewport canvas").first.screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"))


def _widget(page: Page, attr: str) -> str:
    return page.evaluate(f"() => document.querySelector('{WIDGET}').dataset.{attr}")


def test_viewer_in_notebook7(page: Page, nb7: JupyterProcess, artifacts: Path) -> None:
    page.set_default_timeout(60_000)
    page.goto(f"{nb7.base}/notebooks/widget.ipynb?token={nb7.token}")
    page.locator(CELLS).first.wait_for()

    run_notebook_cell(page, 0)
    page.wait_for_function(
        f"""() => {{ const d = document.querySelector('{WIDGET}')?.dataset;
            return !!d && d.state === 'ready' && d.source === 'raw'; }}""",
        timeout=60_000,
    )
    pixels = _pixels(page)
    assert pixels.std() > 5, "the output canvas shows an image"

    # The viewer's keys act in the viewer, not on the notebook.
    page.locator(f"{WIDGET} .dcmv-viewport").click()
    for key in ("ArrowRight", "ArrowRight", "ArrowLeft"):
        page.keyboard.press(key)
    page.wait_for_function(f"() => document.querySelector('{WIDGET}').dataset.shownFrame === '1'")
    assert (_pixels(page) != pixels).any()
    page.keyboard.press("z")
    page.wait_for_function(f"() => document.querySelector('{WIDGET}').dataset.tool === 'zoom'")
    page.keyboard.press("r")
    page.wait_for_function(f"() => document.querySelector('{WIDGET}').dataset.tool === 'roi'")
    first = page.locator(CELLS).first
    assert "jp-CodeCell" in (first.get_attribute("class") or ""), "the cell stays a code cell"
    assert page.locator(WIDGET).count() == 1, "the viewer is still there"
    page.wait_for_timeout(500)  # the trait update is throttled (150 ms)
    assert re.search(r"FRAME 1 TOOL roi", _output(page, 1, "FRAME"))

    # Draw an ROI with the R tool and read it back from Python.
    box = page.locator(f"{WIDGET} .dcmv-viewport canvas").first.bounding_box()
    assert box
    x0, y0 = box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.4
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + 40, y0 + 30, steps=6)
    page.mouse.up()
    page.wait_for_function(f"() => document.querySelector('{WIDGET}').dataset.save === 'saved'")
    out = _output(page, 2, "ROIS")
    assert "'num_roi': 1" in out and "roi_coords" in out

    # Python moves the view.
    run_notebook_cell(page, 3)
    page.wait_for_function(
        f"""() => {{ const d = document.querySelector('{WIDGET}').dataset;
            return d.shownFrame === '4' && d.tool === 'pan'; }}""",
        timeout=30_000,
    )
    assert _widget(page, "rois") == "1"
    page.screenshot(path=str(artifacts / "notebook7-widget.png"))
