"""The page: first paint, token handling, colour, errors in the viewport, the 2D fallback."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from ..harness import DcmviewProcess
from .helpers import (
    file_index,
    open_file,
    open_viewer,
    state,
    viewport_pixels,
    wait_loaded,
    wait_state,
)


def test_first_frame_appears_on_the_canvas(
    page: Page, server: DcmviewProcess, artifacts: Path
) -> None:
    open_viewer(page, server)
    s = open_file(page, file_index(server, "marker"))
    assert s["renderer"] == "webgl2"
    px = viewport_pixels(page, artifacts / "first-frame.png")
    # An image is on the canvas, not a blank or uniform area: the marker's three grey levels
    # (dark, lower half, bright block) and the black margin. (Overlay text is not counted.)
    assert px.std() > 10
    assert len(set(px[..., 0].ravel().tolist())) >= 4
    page.screenshot(path=str(artifacts / "page.png"))


def test_token_leaves_the_address_bar_and_survives_a_reload(
    page: Page, server: DcmviewProcess
) -> None:
    open_viewer(page, server)
    assert "token" not in page.url
    assert page.evaluate("sessionStorage.getItem('dcmview.token')") == server.token
    page.reload()
    wait_loaded(page)


def test_without_token_an_access_page_explains_what_to_open(
    page: Page, server: DcmviewProcess, artifacts: Path
) -> None:
    page.goto(server.url.split("#")[0])
    wait_state(page, state="access-required")
    text = page.inner_text("#dcmview-root")
    assert "access required" in text
    assert "dcmview" in text and "#token=" in text
    page.screenshot(path=str(artifacts / "access-required.png"))


def test_wrong_token_gets_the_access_page(page: Page, server: DcmviewProcess) -> None:
    page.goto(server.url.split("#")[0] + "#token=wrong")
    wait_state(page, state="access-required")
    assert "not accepted" in page.inner_text("#dcmview-root")


def test_colour_frames_come_from_the_display_png(
    page: Page, server: DcmviewProcess, artifacts: Path
) -> None:
    open_viewer(page, server)
    open_file(page, file_index(server, "planar_rgb"), source="png")
    px = viewport_pixels(page, artifacts / "colour.png")
    # Colour is preserved: red, green and blue channels differ.
    assert abs(px[..., 0] - px[..., 2]).mean() > 20
    assert "Colour" in page.inner_text(".dcmv-tr")


def test_api_errors_are_shown_in_the_viewport(
    page: Page, server: DcmviewProcess, artifacts: Path
) -> None:
    open_viewer(page, server)
    index = file_index(server, "truncated")
    page.locator(f'.dcmv-file[data-file="{index}"]').click()
    wait_state(page, file=str(index), state="error")
    message = page.locator(".dcmv-message")
    assert message.is_visible()
    assert "pixel_decode_failed" in message.inner_text()
    page.screenshot(path=str(artifacts / "error.png"))


def test_canvas_2d_fallback_windows_the_same_image(page: Page, server: DcmviewProcess) -> None:
    index = file_index(server, "marker")
    page.goto(server.url.replace("/#", "/?renderer=2d#"))
    s = open_file(page, index)
    assert s["renderer"] == "2d"
    two_d = viewport_pixels(page)
    page.goto(server.url)
    open_file(page, index)
    gl = viewport_pixels(page)
    assert state(page)["renderer"] == "webgl2"
    assert two_d.shape == gl.shape
    # Same window, same pixels (nearest neighbour in both; allow rounding at edges).
    assert (abs(two_d - gl) > 2).mean() < 0.02
