"""The viewer page through a real Jupyter server's jupyter-server-proxy, in headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from .. import dicomgen
from ..harness import DcmviewProcess
from ..jupyter_harness import JupyterProcess

pytest.importorskip("jupyter_server_proxy")
ROOT = "#dcmview-root"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("proxied")
    dicomgen.write_multiframe(root, frames=3, rows=64, columns=80, name="cine.dcm")
    return root


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory: pytest.TempPathFactory, folder: Path) -> Iterator[JupyterProcess]:
    server = JupyterProcess(tmp_path_factory.mktemp("jsp"), env={"DCMVIEW_ROOT": str(folder)})
    server.wait_ready()
    yield server
    server.stop()


def _login(page: Page, jupyter: JupyterProcess) -> None:
    # A token in the URL makes Jupyter set its login cookie, as a hub login would.
    page.goto(f"{jupyter.base}/api/status?token={jupyter.token}")


def _wait_frame(page: Page) -> None:
    page.wait_for_function(
        f"() => {{ const d = document.querySelector('{ROOT}')?.dataset;"
        " return !!d && d.state === 'ready' && d.source === 'raw'; }",
        timeout=30_000,
    )


def test_page_through_proxy_port_path(
    page: Page, jupyter: JupyterProcess, folder: Path, artifacts: Path
) -> None:
    with DcmviewProcess("--port", "0", str(folder)) as proc:
        proc.wait_scan()
        _login(page, jupyter)
        page.goto(f"{jupyter.base}/proxy/{proc.port}/#token={proc.token}")
        _wait_frame(page)
        assert "#token" not in page.url
        page.screenshot(path=str(artifacts / "proxied.png"))


def test_launcher_page_under_the_jupyter_base(page: Page, jupyter: JupyterProcess) -> None:
    _login(page, jupyter)
    page.goto(f"{jupyter.base}/dcmview/")
    _wait_frame(page)
    assert page.locator(".dcmv-file").count() == 1
