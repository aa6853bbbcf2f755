"""SPEC §12 in the browser: with ``--mask`` no text of the page (explorer, tabs, overlay, the
tags with every sequence open, status bar, tooltips) holds an identifier; redaction boxes hide
the pixels under them on every frame, and the copy to a stack hides them on every image."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Page

from .. import dicomgen
from ..dicomgen import IDENTIFIERS
from ..harness import DcmviewProcess
from .conftest import TOKEN
from .helpers import (
    drag,
    file_index,
    open_file,
    open_viewer,
    state,
    viewport_pixels,
    wait_state,
)


@pytest.fixture(scope="module")
def identified(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return dicomgen.write_identified_study(tmp_path_factory.mktemp("identified"))


def _serve(*args: str) -> DcmviewProcess:
    proc = DcmviewProcess("--port", "0", *args, env={"DCMVIEW_TOKEN": TOKEN})
    proc.wait_scan()
    return proc


def _expand_every_sequence(page: Page) -> int:
    """Open every sequence of the tag browser, nested ones too; how many were opened."""
    opened = 0
    while True:
        closed = page.locator(".dcmv-tag-row.dcmv-seq").filter(has_text="▸")
        if closed.count() == 0:
            return opened
        closed.first.click()
        opened += 1


def _page_text(page: Page) -> tuple[str, str]:
    """What a person reads (the rendered text) and everything the page holds (its HTML, with
    tooltips and data attributes)."""
    return page.evaluate("() => document.body.innerText"), page.content()


def _show_all_of(page: Page, server: DcmviewProcess) -> None:
    """Open each file (tabs, overlay, tags with sequences open) and hover the explorer."""
    for f in server.get("api/files").json()["files"]:
        page.locator(f'.dcmv-file[data-file="{f["index"]}"]').click()
        wait_state(page, file=str(f["index"]))
        page.wait_for_function("() => !document.querySelector('.dcmv-tag-body .dcmv-empty')")
        assert _expand_every_sequence(page) >= 2  # OtherPatientIDs, RequestAttributes
    page.locator(".dcmv-status-scan").hover()


@pytest.fixture(scope="module")
def masked(identified: Path) -> Iterator[DcmviewProcess]:
    with _serve("--mask", str(identified)) as proc:
        yield proc


def test_a_masked_page_shows_no_identifier(
    page: Page, masked: DcmviewProcess, artifacts: Path
) -> None:
    open_viewer(page, masked)
    _show_all_of(page, masked)
    page.screenshot(path=str(artifacts / "masked.png"))
    text, html = _page_text(page)
    # The explorer's other view: the folder tree, from the (cleaned) paths.
    page.locator('.dcmv-tree-mode[data-mode="folder"]').click()
    page.screenshot(path=str(artifacts / "masked-folders.png"))
    folder_text, folder_html = _page_text(page)
    assert "Patient 1_Patient 1" in folder_text
    text, html = text + folder_text, html + folder_html
    assert "Patient 1" in text and "Identifiers masked" in text
    assert "[masked]" in text  # the tags panel shows what was replaced
    for value in IDENTIFIERS:
        assert value.lower() not in text.lower(), value
        assert value.lower() not in html.lower(), value


def test_an_unmasked_page_shows_them(page: Page, identified: Path) -> None:
    with _serve(str(identified)) as server:
        open_viewer(page, server)
        _show_all_of(page, server)
        text, _ = _page_text(page)
    assert "Identifiers masked" not in text
    shown = [value for value in IDENTIFIERS if value.lower() in text.lower()]
    assert shown == list(IDENTIFIERS)


# -- redactions ---------------------------------------------------------------------------
def _redactions(server: DcmviewProcess, index: int, count: int) -> list[list[int]]:
    """The server's boxes of a file once it holds ``count`` of them."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        held = server.get(f"api/file/{index}/redactions").json()
        if held["num_roi"] == count:
            return held["roi_coords"]
        time.sleep(0.05)
    raise AssertionError(f"file {index} never held {count} redaction box(es): {held}")


def _screen_box(page: Page, box: list[int], rows: int, columns: int) -> tuple[slice, slice]:
    """The screenshot pixels inside image box ``[ymin, xmin, ymax, xmax]``, one pixel in from
    each edge, for an unrotated, unpanned, fitted view."""
    scale = float(state(page)["zoom"])
    size = page.locator(".dcmv-image").bounding_box()
    assert size is not None
    cx, cy = size["width"] / 2, size["height"] / 2
    y0 = int(np.ceil(cy + (box[0] - rows / 2) * scale)) + 1
    y1 = int(np.floor(cy + (box[2] - rows / 2) * scale)) - 1
    x0 = int(np.ceil(cx + (box[1] - columns / 2) * scale)) + 1
    x1 = int(np.floor(cx + (box[3] - columns / 2) * scale)) - 1
    assert y1 - y0 > 10 and x1 - x0 > 10
    return slice(y0, y1), slice(x0, x1)


def test_a_redaction_box_hides_its_pixels_on_every_frame(
    page: Page, server: DcmviewProcess, artifacts: Path
) -> None:
    open_viewer(page, server)
    index = file_index(server, "cine12")
    open_file(page, index)
    before = viewport_pixels(page)
    page.keyboard.press("x")
    wait_state(page, tool="redact")
    drag(page, (0.42, 0.3), (0.62, 0.7))
    (box,) = _redactions(server, index, 1)
    wait_state(page, redactions="1")
    page.keyboard.press("w")  # the outlines of the Redact tool go: only the boxes stay
    wait_state(page, tool="wl")
    ys, xs = _screen_box(page, box, 96, 96)
    assert before[ys, xs].max() > 40  # there was an image there
    for frame in range(12):
        if frame:
            page.keyboard.press("ArrowRight")
        wait_state(page, frame=str(frame), shownFrame=str(frame))
        shot = viewport_pixels(page, artifacts / f"frame{frame}.png" if frame < 2 else None)
        assert shot[ys, xs].max() == 0, f"frame {frame} shows through its redaction box"
        outside = shot[: ys.start - 3, :]
        assert outside.max() > 40  # the rest of the image is still there
    server.put_json(f"api/file/{index}/redactions", {"roi_coords": []})


def test_copying_boxes_to_the_stack_hides_them_on_every_image(
    page: Page, server: DcmviewProcess, artifacts: Path
) -> None:
    open_viewer(page, server)
    files = server.get("api/files").json()["files"]
    ct = [f["index"] for f in files if f["patient_id"] == "BROWSER-CT"]
    assert len(ct) == 5
    open_file(page, ct[0])
    wait_state(page, position="0")
    page.keyboard.press("x")
    drag(page, (0.45, 0.35), (0.6, 0.65))
    (box,) = _redactions(server, ct[0], 1)
    page.locator(".dcmv-copy-redactions").click()
    for i in ct:
        assert _redactions(server, i, 1) == [box]
    page.keyboard.press("w")
    ys, xs = _screen_box(page, box, 64, 64)
    for position in range(5):
        if position:
            page.keyboard.press("ArrowRight")
        wait_state(page, position=str(position), redactions="1")
        shown = state(page)["file"]
        wait_state(page, file=shown, shownFile=shown)
        shot = viewport_pixels(page, artifacts / f"image{position}.png")
        assert shot[ys, xs].max() == 0, f"image {position} shows through the copied box"
    for i in ct:
        server.put_json(f"api/file/{i}/redactions", {"roi_coords": []})


def test_a_colour_image_shows_again_where_a_box_was_removed(
    page: Page, server: DcmviewProcess
) -> None:
    # Colour files are shown from display PNGs, which have the server's boxes painted in: a
    # PNG fetched while a box was there must not keep it once the box is gone.
    index = file_index(server, "colour")
    info = server.get(f"api/file/{index}/info").json()
    rows, columns = info["rows"], info["columns"]
    box = [rows // 3, columns // 3, 2 * rows // 3, 2 * columns // 3]
    clean = server.get(f"api/file/{index}/frame/0").body
    assert server.put_json(f"api/file/{index}/redactions", {"roi_coords": [box]}).status == 200
    open_viewer(page, server)
    open_file(page, index, source="png")
    wait_state(page, redactions="1")
    ys, xs = _screen_box(page, box, rows, columns)
    assert viewport_pixels(page)[ys, xs].max() == 0
    page.keyboard.press("x")
    page.mouse.click(*_centre(page))  # selects the box under the pointer
    page.keyboard.press("Delete")
    _redactions(server, index, 0)
    page.keyboard.press("w")
    deadline = time.monotonic() + 15
    while viewport_pixels(page)[ys, xs].max() == 0:
        assert time.monotonic() < deadline, "the removed box stays black"
        time.sleep(0.1)
    assert server.get(f"api/file/{index}/frame/0").body == clean


def _centre(page: Page) -> tuple[float, float]:
    box = page.locator(".dcmv-image").bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
