"""The browser's windowing (WebGL2 and Canvas 2D) shows what the server's display PNG shows."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page

from .. import dicomgen
from ..harness import DcmviewProcess
from .conftest import TOKEN
from .helpers import file_index, open_file, open_viewer, state, viewport_pixels

CASES = ["mono1", "ct_rescale", "signed", "no_window"]


@pytest.fixture(scope="module")
def parity_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DcmviewProcess]:
    folder = tmp_path_factory.mktemp("parity")
    dicomgen.write_monochrome1(folder)
    ct = dicomgen.phantom(48, 40, bits_stored=12)
    dicomgen.write_image(
        folder / "ct_rescale.dcm", ct, bits_stored=12, rescale=(2.0, -2048.0), window=(100, 3000)
    )
    signed = dicomgen.phantom(40, 56, dtype=np.int16)
    dicomgen.write_image(folder / "signed.dcm", signed, window=(0, 40000), modality="MR")
    dicomgen.write_image(folder / "no_window.dcm", dicomgen.phantom(32, 32), modality="OT")
    with DcmviewProcess("--port", "0", str(folder), env={"DCMVIEW_TOKEN": TOKEN}) as proc:
        proc.wait_scan()
        yield proc


def drawn_area(page: Page, px: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """The part of the canvas screenshot covered by the image (fitted, centred, unrotated)."""
    zoom = float(state(page)["zoom"])
    h, w = px.shape[:2]
    dh, dw = rows * zoom, cols * zoom
    y0, x0 = round((h - dh) / 2), round((w - dw) / 2)
    return px[y0 : y0 + round(dh), x0 : x0 + round(dw), 0]


@pytest.mark.parametrize("renderer", ["webgl2", "2d"])
@pytest.mark.parametrize("case", CASES)
def test_browser_window_matches_the_server_png(
    page: Page, parity_server: DcmviewProcess, case: str, renderer: str, artifacts: Path
) -> None:
    url = parity_server.url
    if renderer == "2d":
        url = url.replace("/#", "/?renderer=2d#")
    open_viewer(page, parity_server, url)
    index = file_index(parity_server, f"{case}.dcm")
    open_file(page, index)
    info = parity_server.get(f"api/file/{index}/info").json()
    rows, cols = info["rows"], info["columns"]
    shown = drawn_area(page, viewport_pixels(page, artifacts / "canvas.png"), rows, cols)
    png = parity_server.get(f"api/file/{index}/frame/0")
    assert png.status == 200
    expected = Image.open(io.BytesIO(png.body)).convert("L")
    expected = expected.resize((shown.shape[1], shown.shape[0]), Image.Resampling.NEAREST)
    diff = np.abs(shown - np.asarray(expected).astype(np.int16))
    # Same pipeline, same rounding: identical but for one-pixel shifts at sample edges.
    assert np.median(diff) <= 1
    assert (diff > 2).mean() < 0.15
    s = state(page)
    if png.header("x-frame-window-center") is not None:
        assert float(s["wc"]) == float(png.header("x-frame-window-center") or 0)
        assert float(s["ww"]) == float(png.header("x-frame-window-width") or 0)
