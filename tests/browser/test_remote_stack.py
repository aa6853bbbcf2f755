"""A CT series in S3 (moto's server on loopback, SPEC §11) scrolls as a stack in Chromium: every
slice is drawn, each different from the one before, and equal to what the same series read
from the local folder draws."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import Page

from .. import dicomgen
from ..harness import DcmviewProcess
from ..remote_servers import S3Server
from .conftest import TOKEN
from .helpers import ROOT, state, viewport_pixels, wait_state
from .test_stacks import pointer_on_image

pytest.importorskip("s3fs")
pytest.importorskip("moto")
SLICES = 12


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("remote-stack")
    dicomgen.write_ct_series(
        folder,
        count=SLICES,
        size=64,
        patient_id="S3STACK",
        extra={"WindowCenter": 200, "WindowWidth": 1200},
    )
    return folder


@pytest.fixture(scope="module")
def s3(series: Path) -> Iterator[S3Server]:
    server = S3Server()
    server.upload("public", sorted(series.glob("*.dcm")), "ct/", public=True)
    yield server
    server.stop()


def _serve(*args: str, env: dict[str, str] | None = None) -> DcmviewProcess:
    proc = DcmviewProcess("--port", "0", *args, env={"DCMVIEW_TOKEN": TOKEN, **(env or {})})
    proc.wait_scan()
    return proc


def _stack(server: DcmviewProcess) -> dict[str, Any]:
    stacks = [s for item in server.get("api/series").json()["series"] for s in item["stacks"]]
    return next(s for s in stacks if len(s["frames"]) == SLICES)


def _scroll(page: Page, server: DcmviewProcess) -> list[np.ndarray]:
    """Open the stack's first image, wheel through every slice; the pixels of each."""
    stack = _stack(server)
    first = stack["frames"][0]["file_index"]
    page.goto(server.url)
    page.wait_for_function(f"() => document.querySelector('{ROOT}')?.dataset.state === 'ready'")
    page.locator(f'.dcmv-file[data-file="{first}"]').click()
    wait_state(page, file=str(first), shownFile=str(first), state="ready")
    pointer_on_image(page)
    shots = [viewport_pixels(page)]
    for position in range(1, SLICES):
        page.mouse.wheel(0, 50)
        index = stack["frames"][position]["file_index"]
        wait_state(page, position=str(position), shownFile=str(index), state="ready")
        shots.append(viewport_pixels(page))
    assert state(page)["position"] == str(SLICES - 1)
    return shots


def test_a_stack_from_s3_scrolls_like_the_local_one(page: Page, s3: S3Server, series: Path):
    with _serve("--anon", "s3://public/ct/", env=s3.env()) as remote:
        paths = [f["path"] for f in remote.get("api/files").json()["files"]]
        assert all(p.startswith("s3://public/ct/slice_") for p in paths) and len(paths) == SLICES
        from_s3 = _scroll(page, remote)
    with _serve(str(series)) as local:
        from_disk = _scroll(page, local)
    for position in range(1, SLICES):
        assert (from_s3[position] != from_s3[position - 1]).any(), position
    for position, (a, b) in enumerate(zip(from_s3, from_disk, strict=True)):
        assert np.array_equal(a, b), f"slice {position + 1} differs from the local copy"
