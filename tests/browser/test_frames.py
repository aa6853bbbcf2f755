"""Frames: keys, buttons, slider, wheel and cine."""

from __future__ import annotations

import itertools
import time

from playwright.sync_api import Page

from ..harness import DcmviewProcess
from .helpers import (
    file_index,
    image_box,
    open_file,
    open_viewer,
    state,
    viewport_pixels,
    wait_state,
)


def open_cine(page: Page, server: DcmviewProcess) -> int:
    open_viewer(page, server)
    index = file_index(server, "cine12")
    open_file(page, index)
    return index


def test_arrow_and_bracket_keys_change_the_frame(page: Page, server: DcmviewProcess) -> None:
    open_cine(page, server)
    first = viewport_pixels(page)
    page.keyboard.press("ArrowRight")
    wait_state(page, frame="1", shownFrame="1", state="ready")
    assert (viewport_pixels(page) != first).any()
    page.keyboard.press("]")
    wait_state(page, frame="2", shownFrame="2")
    page.keyboard.press("[")
    wait_state(page, frame="1", shownFrame="1")
    page.keyboard.press("ArrowLeft")
    wait_state(page, frame="0", shownFrame="0")
    page.keyboard.press("ArrowLeft")  # stays on the first frame
    assert state(page)["frame"] == "0"
    assert "Frame 1/12" in page.inner_text(".dcmv-tl")


def test_shortcuts_are_ignored_while_typing(page: Page, server: DcmviewProcess) -> None:
    open_cine(page, server)
    page.locator(".dcmv-files .dcmv-filter").fill("")
    page.locator(".dcmv-files .dcmv-filter").press("ArrowRight")
    page.locator(".dcmv-files .dcmv-filter").type("r s")
    assert state(page)["frame"] == "0"
    assert state(page)["tool"] == "wl"


def test_wheel_scrolls_frames_and_slider_seeks(page: Page, server: DcmviewProcess) -> None:
    open_cine(page, server)
    box = image_box(page)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, 100)
    wait_state(page, frame="2")
    page.locator(".dcmv-slider").fill("7")
    wait_state(page, frame="7", shownFrame="7")
    page.locator(".dcmv-next").click()
    wait_state(page, frame="8")


def test_space_plays_and_stops_cine(page: Page, server: DcmviewProcess) -> None:
    open_cine(page, server)
    page.locator(".dcmv-fps").select_option("30")
    page.keyboard.press("Space")
    wait_state(page, playing="true")
    page.wait_for_function(
        "() => Number(document.querySelector('#dcmview-root').dataset.frame) >= 3"
    )
    page.keyboard.press("Space")
    s = wait_state(page, playing="false")
    time.sleep(0.3)
    assert state(page)["frame"] == s["frame"]


def test_sweep_plays_back_and_forth(page: Page, server: DcmviewProcess) -> None:
    open_cine(page, server)
    page.locator(".dcmv-fps").select_option("60")
    page.locator(".dcmv-cine-mode").select_option("sweep")
    page.evaluate(
        """() => {
            window.__frames = [];
            const root = document.querySelector('#dcmview-root');
            new MutationObserver(() => window.__frames.push(Number(root.dataset.frame)))
              .observe(root, { attributes: true, attributeFilter: ['data-frame'] });
        }"""
    )
    page.locator(".dcmv-play").click()
    page.wait_for_function("() => window.__frames.length >= 30", timeout=20_000)
    page.locator(".dcmv-play").click()
    frames = page.evaluate("window.__frames")
    steps = [b - a for a, b in itertools.pairwise(frames) if b != a]
    assert set(steps) <= {1, -1}
    assert 11 in frames and -1 in steps  # reached the end and came back
