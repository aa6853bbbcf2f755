"""Series as stacks in the viewer (SPEC §9): a CT series of single-frame files scrolls as one
image stack by wheel and keys, ↑/↓ go between stacks, the view stays while moving, and an ROI
drawn on an image belongs to that image's file and frame."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import Page

from .. import dicomgen
from ..harness import DcmviewProcess
from .conftest import TOKEN
from .helpers import ROOT, annotations, drag, image_box, state, viewport_pixels, wait_state

SLICES = 40
SPACING_MM = 2.5


@pytest.fixture(scope="module")
def stack_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 40-slice CT series whose file names run against its geometry, a second CT series and
    a multi-frame file (three stacks of one patient)."""
    root = tmp_path_factory.mktemp("stacks")
    made = tmp_path_factory.mktemp("stacks-made")
    study_uid = "1.2.826.0.1.3680043.8.498.4242"
    # A window wide enough for every slice's own grey (the phantom's insert grows 10 HU a
    # slice): consecutive images then differ on the canvas itself, not only in the overlay.
    dicomgen.write_ct_series(
        made,
        count=SLICES,
        size=64,
        study_uid=study_uid,
        patient_id="STACKS",
        series_number=1,
        extra={"WindowCenter": 200, "WindowWidth": 1200},
    )
    (root / "ct").mkdir()
    # Names in the opposite order of the slice positions: the stack follows the geometry.
    for i in range(SLICES):
        shutil.move(made / f"slice_{i + 1:03d}.dcm", root / "ct" / f"img_{SLICES - i:03d}.dcm")
    dicomgen.write_ct_series(
        root / "second", count=6, size=64, study_uid=study_uid, patient_id="STACKS", series_number=2
    )
    (root / "mf").mkdir()
    dicomgen.write_multiframe(
        root / "mf", frames=12, rows=96, columns=96, name="cine12.dcm", patient_id="STACKS-MF"
    )
    return root


@pytest.fixture(scope="module")
def stack_server(stack_study: Path) -> Iterator[DcmviewProcess]:
    with DcmviewProcess("--port", "0", str(stack_study), env={"DCMVIEW_TOKEN": TOKEN}) as proc:
        proc.wait_scan()
        yield proc


def ct_stack(server: DcmviewProcess) -> dict[str, Any]:
    """The 40-image stack as /api/series lists it."""
    stacks = [s for series in server.get("api/series").json()["series"] for s in series["stacks"]]
    return next(s for s in stacks if len(s["frames"]) == SLICES)


def pointer_on_image(page: Page) -> None:
    """Put the mouse over the middle of the image (where the wheel scrolls the stack)."""
    box = image_box(page)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def overlay(page: Page) -> str:
    return page.inner_text(".dcmv-tl")


def open_stack_image(page: Page, server: DcmviewProcess, file_index: int) -> dict[str, str]:
    """Open the page, click a file of the stack and wait until its stack is scrolled."""
    page.goto(server.url)
    page.wait_for_function(f"() => document.querySelector('{ROOT}')?.dataset.state === 'ready'")
    page.locator(f'.dcmv-file[data-file="{file_index}"]').click()
    return wait_state(
        page,
        file=str(file_index),
        shownFile=str(file_index),
        state="ready",
        stackLength=str(SLICES),
    )


def wait_image(page: Page, stack: dict[str, Any], position: int) -> dict[str, str]:
    """Wait until image `position` of the stack is on screen; check what the viewer shows."""
    frame = stack["frames"][position]
    s = wait_state(
        page,
        position=str(position),
        file=str(frame["file_index"]),
        shownFile=str(frame["file_index"]),
        shownFrame="0",
        state="ready",
    )
    text = overlay(page)
    assert f"image {position + 1} / {SLICES}" in text
    mm = re.search(r"(-?[\d.]+) mm", text)
    assert mm is not None, text
    assert float(mm.group(1)) == pytest.approx(frame["position_along_normal_mm"])
    tab = page.locator('.dcmv-tab[aria-selected="true"] .dcmv-tab-pos').inner_text()
    assert tab == f"{position + 1}/{SLICES}"
    # The explorer marks the file shown (just after the image is painted).
    page.locator(f'.dcmv-file[aria-selected="true"][data-file="{frame["file_index"]}"]').wait_for()
    return s


def test_the_series_is_one_stack_ordered_by_geometry(stack_server: DcmviewProcess) -> None:
    stack = ct_stack(stack_server)
    positions = [f["position_along_normal_mm"] for f in stack["frames"]]
    assert positions == pytest.approx([SPACING_MM * i for i in range(SLICES)])


def test_wheel_and_keys_scroll_all_slices_in_order(
    page: Page, stack_server: DcmviewProcess
) -> None:
    stack = ct_stack(stack_server)
    frames = stack["frames"]
    open_stack_image(page, stack_server, frames[0]["file_index"])
    wait_image(page, stack, 0)
    pointer_on_image(page)
    before = viewport_pixels(page)
    for position in range(1, SLICES):
        page.mouse.wheel(0, 50)  # one image per 50 px of wheel
        wait_image(page, stack, position)
        now = viewport_pixels(page)
        assert (now != before).any(), f"image {position + 1} looks like image {position}"
        before = now
    page.mouse.wheel(0, 50)  # stays on the last image
    assert state(page)["position"] == str(SLICES - 1)
    for position in range(SLICES - 2, -1, -1):
        page.keyboard.press("ArrowLeft" if position % 2 else "[")
        wait_image(page, stack, position)
    for position in (1, 2):
        page.keyboard.press("ArrowRight" if position == 1 else "]")
        wait_image(page, stack, position)


def test_opening_a_file_opens_its_stack_at_that_image(
    page: Page, stack_server: DcmviewProcess
) -> None:
    stack = ct_stack(stack_server)
    open_stack_image(page, stack_server, stack["frames"][25]["file_index"])
    wait_image(page, stack, 25)
    tabs = page.locator(".dcmv-tab").count()
    # Another image of the same stack from the explorer: the same tab moves there.
    page.locator(f'.dcmv-file[data-file="{stack["frames"][7]["file_index"]}"]').click()
    wait_image(page, stack, 7)
    assert page.locator(".dcmv-tab").count() == tabs
    page.locator(".dcmv-slider").fill("30")
    wait_image(page, stack, 30)


def test_view_stays_while_moving_in_the_stack(page: Page, stack_server: DcmviewProcess) -> None:
    stack = ct_stack(stack_server)
    open_stack_image(page, stack_server, stack["frames"][10]["file_index"])
    drag(page, (0.5, 0.5), (0.6, 0.3))  # W/L drag (the default tool)
    page.keyboard.press("z")
    drag(page, (0.5, 0.5), (0.5, 0.3))
    page.keyboard.press("p")
    drag(page, (0.5, 0.5), (0.4, 0.45))
    page.locator(".dcmv-flip-h").click()
    held = state(page)
    assert held["preset"] == "manual" and held["flip"] != "0"
    for position in (11, 12, 13):
        page.keyboard.press("ArrowRight")
        s = wait_image(page, stack, position)
        for key in ("wc", "ww", "zoom", "flip", "rot", "invert", "preset"):
            assert s[key] == held[key], key


def explorer_stacks(server: DcmviewProcess) -> list[dict[str, Any]]:
    """The stacks in explorer order, worked out here from /api/files: the explorer groups files
    by patient, study and series in the order each is first listed."""
    files = server.get("api/files").json()["files"]
    groups: dict[tuple[str, ...], list[int]] = {}
    for f in files:
        patient = (f["patient_id"], f["patient_name"])
        study = (*patient, f["study_instance_uid"])
        series = (*study, f["series_instance_uid"])
        for key in (patient, study, series):
            groups.setdefault(key, [])
        groups[series].append(f["index"])
    ranks: dict[int, int] = {}
    order = sorted(groups, key=lambda k: [list(groups).index(k[:n]) for n in (2, 3, 4)])
    for key in order:
        for index in groups[key]:
            ranks.setdefault(index, len(ranks))
    stacks = [s for ser in server.get("api/series").json()["series"] for s in ser["stacks"]]
    return sorted(stacks, key=lambda s: min(ranks[f["file_index"]] for f in s["frames"]))


def test_up_and_down_go_between_stacks_in_explorer_order(
    page: Page, stack_server: DcmviewProcess
) -> None:
    order = explorer_stacks(stack_server)
    assert sorted(len(s["frames"]) for s in order) == [6, 12, SLICES]
    first = order[0]
    open_stack_image_of(page, stack_server, first)
    for stack in order[1:]:
        page.keyboard.press("ArrowDown")
        wait_state(
            page,
            stack=stack["id"],
            position="0",
            stackLength=str(len(stack["frames"])),
            file=str(stack["frames"][0]["file_index"]),
            state="ready",
        )
        n = len(stack["frames"])
        line = f"Frame 1/{n}" if stack["kind"] == "multiframe" else f"image 1 / {n}"
        assert line in overlay(page)
    page.keyboard.press("ArrowDown")  # the last stack: stays
    page.wait_for_timeout(300)
    assert state(page)["stack"] == order[-1]["id"]
    for stack in reversed(order[:-1]):
        page.keyboard.press("ArrowUp")
        wait_state(page, stack=stack["id"], state="ready")
    # Back in the first stack's tab, on the image it showed.
    assert state(page)["position"] == "3"


def open_stack_image_of(page: Page, server: DcmviewProcess, stack: dict[str, Any]) -> None:
    """Open image 4 (or the last) of a stack from the explorer."""
    at = min(3, len(stack["frames"]) - 1)
    page.goto(server.url)
    page.wait_for_function(f"() => document.querySelector('{ROOT}')?.dataset.state === 'ready'")
    frame = stack["frames"][at]
    page.locator(f'.dcmv-file[data-file="{frame["file_index"]}"]').click()
    wait_state(page, stack=stack["id"], state="ready")
    page.locator(".dcmv-slider").fill(str(at))
    wait_state(page, stack=stack["id"], position=str(at), state="ready")


def test_roi_drawn_on_image_21_belongs_to_that_file_and_frame(
    page: Page, stack_server: DcmviewProcess
) -> None:
    stack = ct_stack(stack_server)
    frames = stack["frames"]
    open_stack_image(page, stack_server, frames[0]["file_index"])
    page.locator(".dcmv-slider").fill("20")
    wait_image(page, stack, 20)
    page.locator('select[aria-label="ROI frame scope"]').select_option("frame")
    page.keyboard.press("r")
    drag(page, (0.4, 0.4), (0.6, 0.6))
    wait_state(page, rois="1", save="saved")
    target = frames[20]["file_index"]
    held = annotations(stack_server, target)
    assert held["num_roi"] == 1 and held["roi_frames"] == [[0]]
    for f in frames:
        if f["file_index"] != target:
            assert annotations(stack_server, f["file_index"])["num_roi"] == 0
    page.keyboard.press("ArrowRight")
    wait_image(page, stack, 21)
    assert state(page)["rois"] == "0"
    page.keyboard.press("ArrowLeft")
    s = wait_image(page, stack, 20)
    assert s["rois"] == "1"
    stack_server.put_json(
        f"api/file/{target}/annotations", {"num_roi": 0, "roi_coords": [], "roi_frames": []}
    )


def test_a_stack_image_never_shows_blank_while_scrolling(
    page: Page, stack_server: DcmviewProcess
) -> None:
    """Fast wheel steps: every paint shows a decoded image (the previous one until the next is
    decoded), and the scroll ends on the last image."""
    stack = ct_stack(stack_server)
    open_stack_image(page, stack_server, stack["frames"][0]["file_index"])
    page.evaluate(
        """(sel) => {
            const root = document.querySelector(sel);
            window.__blank = 0;
            new MutationObserver(() => {
                if (root.dataset.shownFile === '-1' || root.dataset.source === '') window.__blank++;
            }).observe(root, { attributes: true });
        }""",
        ROOT,
    )
    pointer_on_image(page)
    for _ in range(SLICES):
        page.mouse.wheel(0, 50)
    wait_image(page, stack, SLICES - 1)
    assert page.evaluate("window.__blank") == 0
    assert np.asarray(viewport_pixels(page)).max() > 0
