"""``viewer.add_layer(mask)`` in a real JupyterLab: the mask shows up in the widget already on
screen without running its cell again, and ``.remove()`` takes it away (SPEC §10)."""

from __future__ import annotations

import io
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
ROWS, COLUMNS = 128, 160


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterProcess]:
    cells = [
        "import dcmview\nviewer = dcmview.Viewer([r'{data}'])\nviewer",
        "import numpy as np\n"
        f"mask = np.zeros((6, {ROWS}, {COLUMNS}), np.uint8)\n"
        "mask[:, 20:60, 30:90] = 1\n"
        "layer = viewer.add_layer(mask, name='model', opacity=1.0, colors={1: '#ff0000'})\n"
        "print('ADDED', layer.id)",
        "layer.remove()\nprint('REMOVED', [l.name for l in viewer.layers])",
    ]
    server = widget_notebook(tmp_path_factory.mktemp("lab-layers"), "jupyterlab", cells)
    yield server
    server.stop()


def _pixels(page: Page) -> np.ndarray:
    png = page.locator(f"{WIDGET} .dcmv-image").screenshot(
        style=".dcmv-corner, .dcmv-zoom { visibility: hidden !important; }"
    )
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int16)


def _at(pixels: np.ndarray, row: float, column: float) -> np.ndarray:
    """The screenshot pixel over image pixel (row, column): the image fits, centred."""
    height, width = pixels.shape[:2]
    scale = min(width / COLUMNS, height / ROWS)
    x = width / 2 + scale * (column + 0.5 - COLUMNS / 2)
    y = height / 2 + scale * (row + 0.5 - ROWS / 2)
    return pixels[int(y), int(x)]


def _wait_layers(page: Page, shown: str) -> None:
    page.wait_for_function(
        f"(s) => document.querySelector('{WIDGET}')?.dataset.layersShown === s",
        arg=shown,
        timeout=30_000,
    )
    page.wait_for_timeout(200)  # the repaint after it


def test_add_layer_shows_without_rerunning_and_remove_takes_it_away(
    page: Page, lab: JupyterProcess, artifacts: Path
) -> None:
    page.set_default_timeout(60_000)
    page.goto(f"{lab.base}/lab/tree/widget.ipynb?reset&token={lab.token}")
    page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').wait_for(timeout=90_000)
    run_notebook_cell(page, 0)
    page.wait_for_function(
        f"""() => {{ const d = document.querySelector('{WIDGET}')?.dataset;
            return !!d && d.state === 'ready' && d.source === 'raw'; }}""",
        timeout=60_000,
    )
    before = _pixels(page)
    assert int(np.abs(np.diff(_at(before, 40, 60))).max()) < 5  # grey before the mask

    run_notebook_cell(page, 1)  # only the add_layer cell: the viewer's cell is not run again
    _wait_layers(page, "layer-0")
    shown = _pixels(page)
    page.screenshot(path=str(artifacts / "jupyterlab-layer.png"))
    np.testing.assert_allclose(_at(shown, 40, 60), [255, 0, 0], atol=2)  # opacity 1: red
    np.testing.assert_array_equal(_at(shown, 100, 120), _at(before, 100, 120))  # outside it

    run_notebook_cell(page, 2)
    _wait_layers(page, "")
    after = _pixels(page)
    np.testing.assert_array_equal(_at(after, 40, 60), _at(before, 40, 60))
    assert "REMOVED []" in page.locator(".jp-Notebook .jp-Cell").nth(2).inner_text()
