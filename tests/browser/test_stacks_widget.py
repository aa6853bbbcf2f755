"""A CT series scrolled as one stack in the dcmview.Viewer widget in a real JupyterLab (SPEC §9):
keys and wheel move through all 40 slices in order, and the traits `file_index`/`frame` keep
naming the source file and frame, both ways."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import nbformat
import pytest
from playwright.sync_api import Page

from .. import dicomgen
from ..jupyter_harness import JupyterProcess
from .test_jupyterlab import _run_cell, _viewport_pixels, _wait_output

pytest.importorskip("jupyterlab")
pytest.importorskip("ipykernel")

WIDGET = ".dcmv-widget"
SLICES = 40


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterProcess]:
    work = tmp_path_factory.mktemp("lab-stacks")
    data = work / "data"
    data.mkdir()
    dicomgen.write_ct_series(data, count=SLICES, size=64, patient_id="WIDGET-STACK")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(f"import dcmview\nviewer = dcmview.Viewer([r'{data}'])\nviewer"),
        nbformat.v4.new_code_cell(
            "import json\nstack = viewer.series[0]['stacks'][0]['frames']\n"
            "print('ORDER', json.dumps([f['file_index'] for f in stack]))"
        ),
        nbformat.v4.new_code_cell('print("AT", viewer.file_index, viewer.frame)'),
        nbformat.v4.new_code_cell("viewer.file_index = stack[30]['file_index']"),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, work / "stack.ipynb")
    server = JupyterProcess(work, app="jupyterlab")
    server.wait_ready()
    yield server
    server.stop()


def _data(page: Page) -> dict[str, str]:
    return page.evaluate(f"() => ({{...document.querySelector('{WIDGET}').dataset}})")


def _wait_image(page: Page, order: list[int], position: int) -> None:
    page.wait_for_function(
        f"""([p, f]) => {{ const d = document.querySelector('{WIDGET}')?.dataset;
            return !!d && d.position === String(p) && d.file === String(f)
                && d.shownFile === String(f) && d.state === 'ready'; }}""",
        arg=[position, order[position]],
        timeout=30_000,
    )
    text = page.locator(f"{WIDGET} .dcmv-tl").inner_text()
    assert f"image {position + 1} / {SLICES}" in text
    mm = re.search(r"(-?[\d.]+) mm", text)
    assert mm is not None and float(mm.group(1)) == pytest.approx(2.5 * position)


def test_stack_scrolls_in_the_widget(page: Page, lab: JupyterProcess) -> None:
    page.set_default_timeout(60_000)
    page.goto(f"{lab.base}/lab/tree/stack.ipynb?reset&token={lab.token}")
    page.locator(".jp-Notebook .jp-Cell").first.wait_for()
    page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').wait_for(timeout=90_000)
    _run_cell(page, 0)
    page.wait_for_function(
        f"""() => {{ const d = document.querySelector('{WIDGET}')?.dataset;
            return !!d && d.state === 'ready' && d.stackLength === '{SLICES}'; }}""",
        timeout=60_000,
    )
    _run_cell(page, 1)
    order = json.loads(re.search(r"ORDER (\[.*\])", _wait_output(page, 1, "ORDER")).group(1))
    assert len(order) == SLICES

    # To the first image, then through all of them by keys, then back by the wheel.
    page.locator(f"{WIDGET} .dcmv-slider").fill("0")
    _wait_image(page, order, 0)
    page.locator(f"{WIDGET} .dcmv-viewport").click()
    before = _viewport_pixels(page)
    for position in range(1, SLICES):
        page.keyboard.press("ArrowRight")
        _wait_image(page, order, position)
        now = _viewport_pixels(page)
        assert (now != before).any(), f"image {position + 1} looks like image {position}"
        before = now
    box = page.locator(f"{WIDGET} .dcmv-viewport").bounding_box()
    assert box
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for position in range(SLICES - 2, 19, -1):
        page.mouse.wheel(0, -50)
        _wait_image(page, order, position)

    # The traits name the source file and frame of the image shown...
    page.wait_for_timeout(500)  # the trait update is throttled (150 ms)
    _run_cell(page, 2)
    assert f"AT {order[20]} 0" in _wait_output(page, 2, "AT")
    # ...and a file set from Python opens its image in the stack.
    _run_cell(page, 3)
    _wait_image(page, order, 30)
    assert _data(page)["stack"]
