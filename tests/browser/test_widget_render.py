"""The anywidget entry point: `render({model, el})` in a ~600 px notebook-like cell.

The kernel side is stood in for by a page-side model that answers the widget transport's
request messages with fetch, so this checks the bundle's widget lifecycle and layout against
the real API without Jupyter (the notebook end-to-end test belongs to the widget issue).
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from ..harness import DcmviewProcess
from .helpers import file_index

CELL_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><link rel="stylesheet" href="assets/viewer.css"></head>
<body style="margin:0;background:#fff">
<div id="cell" style="width:960px"></div>
<script type="module">
import widget from "./assets/viewer.js";
const handlers = new Set();
const state = { height: 600, file_index: 0, frame: 0, window_center: null, window_width: null,
                tool: "wl", annotations_version: 0 };
const model = {
  get(name) { return state[name]; },
  set(name, value) { state[name] = value; },
  save_changes() {},
  send(batch) {
    const list = batch.type === "dcmview:requests" ? batch.requests : [batch];
    for (const msg of list) if (msg.type === "dcmview:request") this.answer(msg);
  },
  answer(msg) {
    const headers = { ...msg.headers, Authorization: "Bearer __TOKEN__" };
    const init = { method: msg.method, headers, body: msg.body ?? undefined };
    fetch(msg.path, init).then(async (r) => {
      const h = {};
      r.headers.forEach((v, k) => { h[k] = v; });
      const reply = { type: "dcmview:response", id: msg.id, status: r.status, headers: h };
      const body = new DataView(await r.arrayBuffer());
      for (const cb of handlers) cb(reply, [body]);
    });
  },
  on(event, cb) { if (event === "msg:custom") handlers.add(cb); },
  off(event, cb) { handlers.delete(cb); },
};
window.__cleanup = widget.render({ model, el: document.getElementById("cell") });
</script>
</body></html>"""

ROOT = ".dcmv-widget"


def test_widget_renders_in_a_600px_cell(
    page: Page, server: DcmviewProcess, artifacts: Path
) -> None:
    base = server.url.split("#")[0]
    html = CELL_PAGE.replace("__TOKEN__", server.token or "")
    page.route(base + "cell.html", lambda route: route.fulfill(body=html, content_type="text/html"))
    page.goto(base + "cell.html")
    index = file_index(server, "cine12")
    page.locator(f'.dcmv-file[data-file="{index}"]').wait_for(state="attached")
    # Narrow cell: the tags pane starts folded; the file pane is still there.
    assert not page.locator(".dcmv-tags").is_visible()
    page.locator(f'.dcmv-file[data-file="{index}"]').click()
    page.wait_for_function(
        f"""() => {{ const d = document.querySelector('{ROOT}').dataset;
            return d.file === '{index}' && d.state === 'ready' && d.source === 'raw'; }}"""
    )
    cell = page.locator(ROOT).bounding_box()
    assert cell and 590 <= cell["height"] <= 610
    for part in (".dcmv-toolbar", ".dcmv-viewport", ".dcmv-framebar", ".dcmv-status"):
        box = page.locator(f"{ROOT} {part}").bounding_box()
        assert box, part
        assert (
            box["y"] >= cell["y"] - 1 and box["y"] + box["height"] <= cell["y"] + cell["height"] + 1
        ), part
    assert page.locator(f"{ROOT} .dcmv-viewport").bounding_box()["height"] > 350  # type: ignore[index]
    page.screenshot(path=str(artifacts / "widget-cell.png"))
    # Keys go to the widget once it has focus, not to the whole page.
    page.locator(f"{ROOT} .dcmv-viewport").click()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => document.querySelector('{ROOT}').dataset.shownFrame === '1'")
    # The cleanup function anywidget calls removes the viewer.
    page.evaluate("window.__cleanup()")
    assert page.locator(ROOT).count() == 0
