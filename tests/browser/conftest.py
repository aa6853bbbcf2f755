"""Browser tests: Debian's Chromium driven by Playwright against a real ``dcmview`` server.

Skipped (with the reason) when /usr/bin/chromium or the playwright package is missing. Never
run ``playwright install``: the system Chromium is launched by path.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from .. import dicomgen
from ..harness import DcmviewProcess
from .chromium import CHROMIUM, CHROMIUM_ARGS

TOKEN = "browser-test-token-0123456789abcdefghijklmnop"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    sync_playwright = None  # type: ignore[assignment]

_SKIP_REASON = (
    "playwright is not installed (pip install playwright)"
    if sync_playwright is None
    else f"{CHROMIUM} is missing (apt-get install -y chromium)"
    if not os.path.exists(CHROMIUM)
    else None
)


if _SKIP_REASON and os.environ.get("CI"):
    raise RuntimeError(f"CI must run the browser tests: {_SKIP_REASON}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)
            if _SKIP_REASON:
                item.add_marker(pytest.mark.skip(reason=_SKIP_REASON))


def marker_image(rows: int = 96, columns: int = 128) -> np.ndarray:
    """A dark 16-bit image with one bright block in the top-left quadrant (shows orientation)."""
    img = np.full((rows, columns), 200, dtype=np.uint16)
    img[rows // 8 : rows // 3, columns // 8 : columns // 3] = 3800
    img[rows // 2 :, :] += 300  # lower half slightly brighter than the upper half
    return img


@pytest.fixture(scope="session")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated files every browser test serves (written once per session)."""
    root = tmp_path_factory.mktemp("browser-study")
    dicomgen.write_ct_series(root / "ct", count=5, size=64, patient_id="BROWSER-CT")
    (root / "mf").mkdir()
    dicomgen.write_multiframe(
        root / "mf", frames=12, rows=96, columns=96, name="cine12.dcm", patient_id="BROWSER-MF"
    )
    (root / "marker").mkdir()
    dicomgen.write_image(
        root / "marker" / "marker.dcm",
        marker_image(),
        bits_stored=12,
        window=(2048, 4096),
        patient_id="BROWSER-MARKER",
        modality="MR",
    )
    (root / "colour").mkdir()
    dicomgen.write_planar_rgb(root / "colour", patient_id="BROWSER-COLOUR")
    (root / "broken").mkdir()
    dicomgen.write_truncated(root / "broken", patient_id="BROWSER-BROKEN")
    return root


@pytest.fixture(scope="module")
def server(study: Path) -> Iterator[DcmviewProcess]:
    """A fresh server per test module (annotations start empty)."""
    with DcmviewProcess("--port", "0", str(study), env={"DCMVIEW_TOKEN": TOKEN}) as proc:
        proc.wait_scan()
        yield proc


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a fresh context (empty sessionStorage); console errors fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    """Folder for screenshots (git-ignored), one per test."""
    folder = ARTIFACTS / request.node.name.replace("/", "_")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
