"""A large JPEG 2000 frame is painted first at reduced resolution, said so in the overlay, and
the viewer ends on the full frame (issue 14)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from .. import dicomgen
from ..harness import DcmviewProcess
from .conftest import TOKEN
from .helpers import file_index, open_viewer, viewport_pixels, wait_state

ROWS, COLUMNS = 2048, 1536
STUDY = "1.2.826.0.1.3680043.8.498.7"  # one study: the grey file (series 1) is listed first

# Logs, once per animation frame in which they change, the root's data-reduced and data-source
# and the top-left overlay text (window.__painted).
RECORDER = """
(() => {
  window.__painted = [];
  let last = "";
  const tick = () => {
    const d = document.querySelector('#dcmview-root')?.dataset;
    const tl = document.querySelector('.dcmv-tl')?.textContent ?? '';
    if (d && d.source) {
      const now = JSON.stringify([d.reduced ?? '', d.source, tl]);
      if (now !== last) window.__painted.push(JSON.parse(now));
      last = now;
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();
"""


@pytest.fixture(scope="module")
def big_j2k(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DcmviewProcess]:
    root = tmp_path_factory.mktemp("first-paint")
    dicomgen.write_mammography(
        root,
        name="big_j2k.dcm",
        rows=ROWS,
        columns=COLUMNS,
        transfer_syntax=dicomgen.JPEG2000Lossless,
        patient_id="BIG-J2K",
        study_uid=STUDY,
        series_number=1,
    )
    dicomgen.write_image(
        root / "colour_j2k.dcm",
        dicomgen.colour_phantom(1024, 768),  # taller than the view: reduced too
        photometric="RGB",
        transfer_syntax=dicomgen.JPEG2000Lossless,
        patient_id="COLOUR-J2K",
        study_uid=STUDY,
        series_number=2,
    )
    with DcmviewProcess("--port", "0", str(root), env={"DCMVIEW_TOKEN": TOKEN}) as proc:
        proc.wait_scan()
        yield proc


def test_large_j2k_frame_is_painted_reduced_then_full(page: Page, big_j2k: DcmviewProcess) -> None:
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.add_init_script(RECORDER)
    page.goto(big_j2k.url)  # the grey file is listed, and opened, first
    wait_state(page, timeout=60_000, state="ready", source="raw", reduced="")
    painted = page.evaluate("() => window.__painted")
    reduced = [p for p in painted if p[0]]
    assert reduced, painted
    factor = int(reduced[0][0])
    assert factor >= 2 and reduced[0][1] == "png"
    assert f"Reduced 1/{factor}: loading full resolution" in reduced[0][2]
    # The reduced picture came first; the raw frame was asked for after it.
    pictures = [u for u in asked if "/frame/0?" in u]
    raws = [u for u in asked if u.endswith("/frame/0/raw")]
    assert pictures and "reduce=" in pictures[0] and raws
    assert asked.index(pictures[0]) < asked.index(raws[0])
    # It ends on the full frame, which the overlay does not call reduced.
    assert painted[-1][:2] == ["", "raw"] and "Reduced" not in painted[-1][2]
    assert f"{COLUMNS} × {ROWS}" in page.locator(".dcmv-br").inner_text()
    assert viewport_pixels(page).max() > 100  # the image is on screen, not a blank canvas


def test_large_colour_j2k_frame_ends_on_the_full_picture(
    page: Page, big_j2k: DcmviewProcess
) -> None:
    page.add_init_script(RECORDER)
    open_viewer(page, big_j2k)
    index = file_index(big_j2k, "colour_j2k.dcm")
    page.evaluate("() => { window.__painted = []; }")
    page.locator(f'.dcmv-file[data-file="{index}"]').click()
    wait_state(page, timeout=60_000, file=str(index), state="ready", source="png", reduced="")
    painted = page.evaluate("() => window.__painted")
    colour = [p for p in painted if "COLOUR-J2K" in p[2]]
    assert any(p[0] for p in colour), colour  # a reduced picture first
    assert colour[-1][0] == "" and "Reduced" not in colour[-1][2]
    assert "Colour" in page.locator(".dcmv-tr").inner_text()
