"""Cine of a 100-frame 512² file at 24 fps in headless Chromium: every frame shown, in order.

The rate itself is a SPEC §8 benchmark (``bench/``), not a timed test: this test only records
the figure in ``test-artifacts/cine-fps.txt`` for a person to read.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from .. import dicomgen
from ..harness import DcmviewProcess
from .conftest import ARTIFACTS, TOKEN
from .helpers import CINE_RECORDER, open_file, state, wait_state


@pytest.fixture(scope="module")
def cine_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DcmviewProcess]:
    folder = tmp_path_factory.mktemp("cine100")
    dicomgen.write_multiframe(folder, frames=100, rows=512, columns=512)
    with DcmviewProcess("--port", "0", str(folder), env={"DCMVIEW_TOKEN": TOKEN}) as proc:
        proc.wait_scan()
        yield proc


@pytest.mark.slow
def test_cine_plays_every_frame_in_order(page: Page, cine_server: DcmviewProcess) -> None:
    page.goto(cine_server.url)
    open_file(page, 0)
    page.locator(".dcmv-fps").select_option("24")
    page.evaluate(CINE_RECORDER, "#dcmview-root")
    page.keyboard.press("Space")  # from the first play: nothing prefetched yet
    page.wait_for_function("() => window.__shown.length >= 101", timeout=60_000)
    page.keyboard.press("Space")
    wait_state(page, playing="false")
    shown = page.evaluate("window.__shown")[:100]
    played = page.evaluate("window.__played")
    frames = [f for _, f in shown]
    assert frames[:3] == [1, 2, 3]
    # 100 frames from the key press: the first frame is due one interval after it.
    fps = 100 / ((shown[99][0] - played) / 1000)
    steady = 99 / ((shown[99][0] - shown[0][0]) / 1000)
    ARTIFACTS.mkdir(exist_ok=True)
    line = f"cine 512x512x100 at 24 fps: {fps:.2f} fps from the first play, {steady:.2f} steady"
    stalls = state(page)["cineStalls"]
    line += f"; waited for data on {stalls} frames"
    (ARTIFACTS / "cine-fps.txt").write_text(line + "\n")
    print(line)
    assert frames == [*range(1, 100), 0]  # one full pass, no frame skipped or repeated
