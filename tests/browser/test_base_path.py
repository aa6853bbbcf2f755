"""The page works under a non-root base path, as behind jupyter-server-proxy."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Page

from ..harness import DcmviewProcess
from .helpers import annotations, drag, file_index, open_file, viewport_pixels, wait_state

PREFIX = "/user/x/proxy/8888/"
# Host and Origin are not forwarded: to the server this proxy is a same-origin client.
FORWARDED = ("authorization", "x-dcmview-token", "content-type", "if-match", "accept")


class PrefixProxy:
    """Serves ``PREFIX...`` by forwarding to the dcmview server; anything else is a 404."""

    def __init__(self, backend_port: int) -> None:
        self.seen: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _forward(self) -> None:
                proxy.seen.append(self.path)
                if not self.path.startswith(PREFIX):
                    self.send_error(404, "outside the proxied prefix")
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() in FORWARDED}
                conn = http.client.HTTPConnection("127.0.0.1", backend_port, timeout=60)
                conn.request(
                    self.command, "/" + self.path[len(PREFIX) :], body=body, headers=headers
                )
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = _forward
            do_PUT = _forward

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def proxy(server: DcmviewProcess) -> Iterator[PrefixProxy]:
    p = PrefixProxy(server.port)
    yield p
    p.close()


def test_viewer_works_under_a_prefix(
    page: Page, server: DcmviewProcess, proxy: PrefixProxy, artifacts: Path
) -> None:
    page.goto(f"http://127.0.0.1:{proxy.port}{PREFIX}#token={server.token}")
    index = file_index(server, "marker")
    page.wait_for_selector(f'.dcmv-file[data-file="{index}"]')
    open_file(page, index)
    assert viewport_pixels(page, artifacts / "prefixed.png").std() > 10
    page.keyboard.press("r")
    drag(page, (0.4, 0.4), (0.6, 0.55))
    wait_state(page, save="saved")
    assert annotations(server, index)["num_roi"] == 1
    assert proxy.seen, "nothing went through the proxy"
    outside = [p for p in proxy.seen if not p.startswith(PREFIX)]
    assert outside == []
    assert any(p.startswith(PREFIX + "assets/viewer.js") for p in proxy.seen)
    assert any(p.startswith(PREFIX + f"api/file/{index}/frame/0/raw") for p in proxy.seen)
