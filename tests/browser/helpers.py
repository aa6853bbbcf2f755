"""Small helpers for driving the viewer page and reading what it shows."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from playwright.sync_api import Page

from ..harness import DcmviewProcess

ROOT = "#dcmview-root"
# What the viewport draws over the image, hidden for screenshots of the image itself.
OVER_IMAGE_HIDDEN = ".dcmv-corner, .dcmv-zoom { visibility: hidden !important; }"


def state(page: Page) -> dict[str, str]:
    """The viewer's state attributes (data-* on the root element)."""
    return page.evaluate(f"() => ({{...document.querySelector('{ROOT}').dataset}})")


def wait_state(page: Page, timeout: float = 15_000, **expected: str) -> dict[str, str]:
    """Wait until every data-<key> of the root equals the expected value."""
    js_expected = json.dumps({k: str(v) for k, v in expected.items()})
    page.wait_for_function(
        f"""() => {{
            const d = document.querySelector('{ROOT}')?.dataset;
            const e = {js_expected};
            return !!d && Object.keys(e).every((k) => d[k] === e[k]);
        }}""",
        timeout=timeout,
    )
    return state(page)


def file_index(server: DcmviewProcess, path_part: str) -> int:
    """Index of the first file whose path contains `path_part`."""
    files = server.get("api/files").json()["files"]
    return next(f["index"] for f in files if path_part in f["path"])


def open_viewer(page: Page, server: DcmviewProcess, url: str | None = None) -> None:
    page.goto(url or server.url)
    wait_loaded(page)


def wait_loaded(page: Page) -> None:
    """Wait until the first file (opened by itself) is shown, or failed: it may be broken."""
    page.wait_for_function(
        f"() => ['ready', 'error'].includes(document.querySelector('{ROOT}')?.dataset.state)"
    )


def open_file(page: Page, index: int, source: str = "raw") -> dict[str, str]:
    """Click a file in the explorer and wait until its frame is on screen from `source`."""
    page.locator(f'.dcmv-file[data-file="{index}"]').click()
    return wait_state(page, file=str(index), state="ready", source=source)


def viewport_pixels(page: Page, save: Path | None = None) -> np.ndarray:
    """Screenshot of the image canvas as an RGB array (what a person sees of the image: the
    overlay text, on its dark backing, and the zoom controls are left out)."""
    png = page.locator(".dcmv-image").screenshot(style=OVER_IMAGE_HIDDEN)
    if save is not None:
        save.write_bytes(png)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int16)


def image_box(page: Page) -> dict[str, float]:
    box = page.locator(".dcmv-viewport").bounding_box()
    assert box is not None
    return box


def drag(
    page: Page,
    start: tuple[float, float],
    end: tuple[float, float],
    button: Any = "left",
    steps: int = 8,
) -> None:
    """Drag with the mouse between two points given relative to the viewport (0..1)."""
    box = image_box(page)
    x0 = box["x"] + start[0] * box["width"]
    y0 = box["y"] + start[1] * box["height"]
    x1 = box["x"] + end[0] * box["width"]
    y1 = box["y"] + end[1] * box["height"]
    page.mouse.move(x0, y0)
    page.mouse.down(button=button)
    page.mouse.move(x1, y1, steps=steps)
    page.mouse.up(button=button)


def annotations(server: DcmviewProcess, index: int) -> dict[str, Any]:
    return server.get(f"api/file/{index}/annotations").json()


# Records, in the page, when cine starts (window.__played) and every frame shown
# (window.__shown: [time, frame]); argument: the viewer root's CSS selector.
CINE_RECORDER = """(selector) => {
    window.__shown = [];
    window.__played = null;
    const root = document.querySelector(selector);
    new MutationObserver((records) => {
        const now = performance.now();
        for (const r of records) {
            if (r.attributeName === 'data-playing' && root.dataset.playing === 'true') {
                window.__played ??= now;
            }
            if (r.attributeName === 'data-shown-frame') {
                window.__shown.push([now, Number(root.dataset.shownFrame)]);
            }
        }
    }).observe(root, {attributes: true, attributeFilter: ['data-shown-frame', 'data-playing']});
}"""
