"""dcmview.Viewer in a real JupyterLab, driven in headless Chromium (SPEC §1 Notebook)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page

from ..jupyter_harness import JupyterProcess, run_notebook_cell, widget_notebook

pytest.importorskip("jupyterlab")
pytest.importorskip("ipykernel")

WIDGET = ".dcmv-widget"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterProcess]:
    cells = [
        "import dcmview\nviewer = dcmview.Viewer([r'{data}'])\nviewer",
        'print("FRAME", viewer.frame, "TOOL", viewer.tool)',
        'print("ROIS", list(viewer.annotations.values()))',
        "viewer  # the same widget shown a second time",
        "viewer.frame = 4\nviewer.tool = 'pan'",
    ]
    server = widget_notebook(tmp_path_factory.mktemp("lab"), "jupyterlab", cells)
    yield server
    server.stop()


def _run_cell(page: Page, index: int) -> str:
    """Run cell `index`; its output text."""
    run_notebook_cell(page, index)
    return page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-OutputArea").inner_text()


def _wait_output(page: Page, index: int, pattern: str, timeout: float = 20_000) -> str:
    page.wait_for_function(
        """([i, p]) => { const c = document.querySelectorAll('.jp-Notebook .jp-Cell')[i];
            return !!c && new RegExp(p).test(c.querySelector('.jp-OutputArea').innerText); }""",
        arg=[index, pattern],
        timeout=timeout,
    )
    return page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-OutputArea").inner_text()


def _viewport_pixels(page: Page) -> np.ndarray:
    png = page.locator(f"{WIDGET} .dcmv-viewport canvas").first.screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"))


def test_viewer_in_jupyterlab(page: Page, lab: JupyterProcess, artifacts: Path) -> None:
    page.set_default_timeout(60_000)
    page.goto(f"{lab.base}/lab/tree/widget.ipynb?reset&token={lab.token}")
    page.locator(".jp-Notebook .jp-Cell").first.wait_for()
    page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').wait_for(timeout=90_000)

    _run_cell(page, 0)
    page.wait_for_function(
        f"""() => {{ const d = document.querySelector('{WIDGET}')?.dataset;
            return !!d && d.state === 'ready' && d.source === 'raw'; }}""",
        timeout=60_000,
    )
    pixels = _viewport_pixels(page)
    assert pixels.std() > 5, "the output canvas shows an image"
    page.screenshot(path=str(artifacts / "jupyterlab-widget.png"))

    # Keys reach the widget once it has focus; the frame trait follows in the kernel.
    page.locator(f"{WIDGET} .dcmv-viewport").click()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => document.querySelector('{WIDGET}').dataset.shownFrame === '1'")
    assert (_viewport_pixels(page) != pixels).any()
    page.wait_for_timeout(500)  # the trait update is throttled (150 ms)
    _run_cell(page, 1)
    assert re.search(r"FRAME 1 TOOL wl", _wait_output(page, 1, "FRAME"))

    # Draw an ROI with the R tool and read it back from Python.
    page.locator(f"{WIDGET} .dcmv-viewport").click()
    page.keyboard.press("r")
    box = page.locator(f"{WIDGET} .dcmv-viewport canvas").first.bounding_box()
    assert box
    x0, y0 = box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.4
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + 40, y0 + 30, steps=6)
    page.mouse.up()
    page.wait_for_function(f"() => document.querySelector('{WIDGET}').dataset.save === 'saved'")
    _run_cell(page, 2)
    out = _wait_output(page, 2, "ROIS")
    assert "'num_roi': 1" in out and "roi_coords" in out
    page.screenshot(path=str(artifacts / "jupyterlab-roi.png"))

    # Re-displaying the widget gives a second working view of the same model.
    _run_cell(page, 3)
    page.wait_for_function(
        f"""() => {{ const v = [...document.querySelectorAll('{WIDGET}')];
            return v.length === 2 && v.every((w) => w.dataset.state === 'ready'
                                            && w.dataset.shownFrame === '1'); }}""",
        timeout=60_000,
    )

    # Python moves every view of the widget.
    _run_cell(page, 4)
    page.wait_for_function(
        f"""() => [...document.querySelectorAll('{WIDGET}')]
            .every((w) => w.dataset.shownFrame === '4' && w.dataset.tool === 'pan')""",
        timeout=30_000,
    )

    # When the kernel restarts, the viewer says so instead of staying on as if it worked.
    page.locator(".lm-MenuBar-itemLabel", has_text="Kernel").click()
    page.locator(".lm-Menu-itemLabel", has_text="Restart Kernel…").first.click()
    page.locator(".jp-Dialog-button.jp-mod-accept").click()
    page.wait_for_function(
        f"""() => [...document.querySelectorAll('{WIDGET}')]
            .every((w) => w.dataset.state === 'kernel-gone')""",
        timeout=60_000,
    )
    assert "kernel has stopped" in page.locator(WIDGET).first.inner_text()
    page.screenshot(path=str(artifacts / "jupyterlab-kernel-gone.png"))


def test_viewer_says_so_when_the_kernel_is_shut_down(page: Page, lab: JupyterProcess) -> None:
    page.set_default_timeout(60_000)
    page.goto(f"{lab.base}/lab/tree/widget.ipynb?reset&token={lab.token}")
    page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').wait_for(timeout=90_000)
    run_notebook_cell(page, 0)
    page.wait_for_function(f"() => document.querySelector('{WIDGET}')?.dataset.state === 'ready'")
    page.locator(".lm-MenuBar-itemLabel", has_text="Kernel").click()
    page.locator(".lm-Menu-itemLabel", has_text="Shut Down Kernel").first.click()
    accept = page.locator(".jp-Dialog-button.jp-mod-accept")
    page.wait_for_timeout(500)
    if accept.count():
        accept.click()
    page.wait_for_function(
        f"() => document.querySelector('{WIDGET}')?.dataset.state === 'kernel-gone'",
        timeout=30_000,
    )
