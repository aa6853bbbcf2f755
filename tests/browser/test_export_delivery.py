"""In Chromium: the viewer's Export ROIs counts as an export, another site's page pointing an
<img> at the export URL (under --no-token) does not."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Page

from ..harness import DcmviewProcess
from ..test_recovery import BOX, saved_paths
from .helpers import file_index, open_viewer


@pytest.fixture
def other_site() -> Iterator[dict[str, str]]:
    """A web server on another site (localhost, not 127.0.0.1) serving the page it is given."""
    pages: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    pages["base"] = f"http://localhost:{httpd.server_address[1]}"
    try:
        yield pages
    finally:
        httpd.shutdown()
        httpd.server_close()


def edited(study: Path, tmp_path: Path, *args: str) -> DcmviewProcess:
    proc = DcmviewProcess(
        "--port", "0", *args, str(study), env={"XDG_CACHE_HOME": str(tmp_path / "cache")}
    )
    proc.wait_scan()
    index = file_index(proc, "marker")
    assert proc.put_json(f"api/file/{index}/annotations", BOX).status == 200
    return proc


def test_another_sites_img_of_the_export_url_is_not_an_export(
    page: Page, study: Path, tmp_path: Path, other_site: dict[str, str]
) -> None:
    proc = edited(study, tmp_path, "--no-token")
    try:
        export = f"http://127.0.0.1:{proc.port}/api/annotations/export.csv"
        other_site["/evil.html"] = f'<!doctype html><img src="{export}">'
        done: list[str] = []
        for event in ("requestfinished", "requestfailed"):  # Chromium's ORB fails it
            page.on(event, lambda request, e=event: done.append(e) if request.url == export else 0)
        page.goto(other_site["base"] + "/evil.html")
        for _ in range(600):  # until the browser is done with the fetch (at most 30 s)
            if done:
                break
            page.wait_for_timeout(50)
        assert done, "the page never fetched the export URL"
    finally:
        assert proc.stop() == 0
    paths = saved_paths(proc)
    assert paths and paths[-1].exists() and "[[1,1,5,5]]" in paths[-1].read_text()


def test_the_viewers_export_button_is_an_export(page: Page, study: Path, tmp_path: Path) -> None:
    proc = edited(study, tmp_path)
    try:
        open_viewer(page, proc)
        with page.expect_download() as info:
            page.locator(".dcmv-export").click()
        assert b"[[1,1,5,5]]" in Path(info.value.path()).read_bytes()
    finally:
        assert proc.stop() == 0
    # The recovery file written after the edit was removed by the export; no new one was made.
    assert all(not path.exists() for path in saved_paths(proc)), proc.output
