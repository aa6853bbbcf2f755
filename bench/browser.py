"""Browser scenarios in headless Chromium: first frame on screen, cine rate, W/L-drag redraw rate.

Both viewers are measured the same way, from inside the page:

- an init script wraps the canvas drawing calls (2D ``drawImage``/``putImageData``, WebGL
  ``drawArrays``/``drawElements``, ``transferFromImageBitmap``) and counts those that hit the
  viewer's image canvas;
- a ``requestAnimationFrame`` loop samples, once per presented frame, that counter and the
  viewer's own marker of what it shows (ours: ``data-*`` state on ``#dcmview-root``; the
  original: ``data-capture-rendered`` on its canvas and the W/C text of its overlay).

So "on screen" means: the viewer says the frame is shown *and* a draw call reached the canvas,
seen by the first animation frame after that. Times are ``performance.now()`` in the page,
whose origin is the start of the navigation.
"""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass
from pathlib import Path

from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS

from .results import NotApplicable
from .servers import Program, Server

VIEWPORT = {"width": 1400, "height": 900}
CINE_FPS = 24
CINE_FRAMES = 100
DRAG_SECONDS = 3.0


@dataclass(frozen=True)
class PageProfile:
    """Where each viewer keeps what the scenarios look at (CSS selectors, JS expressions)."""

    canvas: str
    viewport: str
    ready_js: str
    frame_js: str
    window_js: str
    tool_js: str
    wl_tool: str
    fps_select: str
    play_button: str


_OURS_STATE = "document.querySelector('#dcmview-root')?.dataset"
OURS = PageProfile(
    canvas=".dcmv-image",
    viewport=".dcmv-viewport",
    ready_js=(
        f"(d => !!d && d.state === 'ready' && !!d.source && d.shownFrame === '0')({_OURS_STATE})"
    ),
    frame_js=f"({_OURS_STATE}?.shownFrame ?? '')",
    window_js=f"(d => d ? d.wc + '/' + d.ww : '')({_OURS_STATE})",
    tool_js=f"({_OURS_STATE}?.tool ?? '')",
    wl_tool="wl",
    fps_select="select.dcmv-fps",
    play_button=".dcmv-play",
)

_ORIG_CANVAS = "document.querySelector('canvas.dicom-canvas')"
ORIGINAL = PageProfile(
    canvas="canvas.dicom-canvas",
    viewport="section.viewport",
    ready_js=(
        f"(c => !!c && !!c.getAttribute('data-capture-rendered') && c.width > 1)({_ORIG_CANVAS})"
    ),
    frame_js=f"({_ORIG_CANVAS}?.getAttribute('data-capture-rendered') ?? '')",
    window_js=(
        "((document.querySelector('section.viewport .overlay')?.textContent ?? '')"
        ".match(/W:\\s*[-\\d.]+\\s*·\\s*C:\\s*[-\\d.]+/) ?? [''])[0]"
    ),
    tool_js="(document.querySelector('section.viewport')?.dataset.tool ?? '')",
    wl_tool="window_level",
    fps_select='select[aria-label="Cine speed"]',
    play_button='button[aria-label="Play cine"]',
)

PROFILES = {"ours": OURS, "original": ORIGINAL}

_PROBE = """
(() => {
  const sel = %(canvas)s;
  const B = (window.__bench = {
    draws: 0, readyAt: null, log: [], recording: false,
  });
  const wrap = (proto, names) => {
    if (!proto) return;
    for (const name of names) {
      const orig = proto[name];
      if (typeof orig !== "function") continue;
      proto[name] = function (...args) {
        const c = this.canvas;
        if (c && c.matches && c.matches(sel)) B.draws++;
        return orig.apply(this, args);
      };
    }
  };
  wrap(window.CanvasRenderingContext2D?.prototype, ["drawImage", "putImageData"]);
  wrap(window.WebGL2RenderingContext?.prototype, ["drawArrays", "drawElements"]);
  wrap(window.WebGLRenderingContext?.prototype, ["drawArrays", "drawElements"]);
  wrap(window.ImageBitmapRenderingContext?.prototype, ["transferFromImageBitmap"]);
  const ready = () => { try { return %(ready)s; } catch { return false; } };
  const frame = () => { try { return String(%(frame)s); } catch { return ""; } };
  const win = () => { try { return String(%(window)s); } catch { return ""; } };
  const tick = (t) => {
    if (B.readyAt === null && B.draws > 0 && ready()) B.readyAt = performance.now();
    if (B.recording) B.log.push([performance.now(), B.draws, frame(), win()]);
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();
"""


def available() -> str | None:
    """None when the browser scenarios can run, else why not."""
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} missing (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright missing (pip install playwright)"
    return None


class Browser:
    """One headless Chromium for the whole run; every measurement gets a fresh context."""

    def __init__(self) -> None:
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        self.browser = self._pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

    def close(self) -> None:
        self.browser.close()
        self._pw.stop()

    def open(self, server: Server, profile: PageProfile, timeout_s: float = 20.0):
        """Open the viewer page and wait for its first frame on screen; (page, context, ms)."""
        context = self.browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        script = _PROBE % {
            "canvas": repr(profile.canvas),
            "ready": profile.ready_js,
            "frame": profile.frame_js,
            "window": profile.window_js,
        }
        page.add_init_script(script)
        try:
            page.goto(server.url)
            page.wait_for_function(
                "() => window.__bench && window.__bench.readyAt !== null",
                timeout=timeout_s * 1000,
                polling=50,
            )
        except Exception as exc:
            context.close()
            raise NotApplicable(_not_ready(server, exc)) from None
        ms = page.evaluate("() => window.__bench.readyAt")
        return page, context, float(ms)


def _not_ready(server: Server, exc: Exception) -> str:
    if server.program.name == "ours":
        return "n/a (viewer not ready)"
    return f"n/a (page: {type(exc).__name__})"


def first_frame(browser: Browser, program: Program, path: Path) -> dict[str, float]:
    """Milliseconds from navigation start to the first frame of `path` on screen."""
    with Server(program, [path]) as server:
        server.wait_loaded()
        page, context, ms = browser.open(server, PROFILES[program.name])
        blank = _canvas_blank(page, PROFILES[program.name])
        context.close()
    if blank:
        raise NotApplicable("n/a (canvas stayed blank)")
    return {"browser_first_big": ms}


def _canvas_blank(page, profile: PageProfile) -> bool:
    import io

    from PIL import Image

    png = page.locator(profile.canvas).first.screenshot()
    lo, hi = Image.open(io.BytesIO(png)).convert("L").getextrema()
    return hi - lo < 8


def cine(
    browser: Browser, program: Program, path: Path, key: str = "browser_cine"
) -> dict[str, float]:
    """Frames shown per second at the 24 fps setting, over 100 frames from pressing play."""
    profile = PROFILES[program.name]
    with Server(program, [path]) as server:
        server.wait_loaded()
        page, context, _ = browser.open(server, profile)
        try:
            page.select_option(profile.fps_select, str(CINE_FPS))
            page.wait_for_timeout(200)
            t0 = page.evaluate(
                """(sel) => {
                    const B = window.__bench;
                    B.log = []; B.recording = true;
                    const t = performance.now();
                    document.querySelector(sel).click();
                    return t;
                }""",
                profile.play_button,
            )
            deadline = time.monotonic() + CINE_FRAMES / CINE_FPS * 3 + 5
            changes: list[float] = []
            while time.monotonic() < deadline:
                page.wait_for_timeout(250)
                log = page.evaluate("() => window.__bench.log")
                changes = _changes(log, column=2)
                if len(changes) >= CINE_FRAMES:
                    break
        finally:
            context.close()
    if not changes:
        raise NotApplicable("n/a (no frame change seen)")
    shown = changes[:CINE_FRAMES]
    # Short of 100 frames before the deadline: the rate over the whole time waited.
    end = shown[-1] if len(shown) == CINE_FRAMES else float(log[-1][0])
    return {key: len(shown) / ((end - t0) / 1000)}


def _changes(log: list, column: int) -> list[float]:
    """Times of the animation frames whose `column` differs from the frame before."""
    times, last = [], None
    for row in log:
        if last is not None and row[column] != last:
            times.append(float(row[0]))
        last = row[column]
    return times


def wl_drag(browser: Browser, program: Program, path: Path) -> dict[str, float]:
    """Animation frames per second that drew during a continuous W/L drag.

    The button goes down with a real (CDP) mouse event, so the viewer captures the pointer;
    the moves are then dispatched inside the page, one per animation frame, as Chromium delivers
    a real mouse's moves (coalesced, frame-aligned). Moves sent one by one through CDP wait for
    each input ack, which would measure the harness's round trips instead.
    A viewer that draws nothing while the pointer keeps moving scores 0 (if the W/L did
    change once the drag stopped)."""
    profile = PROFILES[program.name]
    with Server(program, [path]) as server:
        server.wait_loaded()
        page, context, _ = browser.open(server, profile)
        try:
            box = page.locator(profile.viewport).first.bounding_box()
            cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            page.mouse.move(cx, cy)
            _select_wl_tool(page, profile)
            before = page.evaluate(f"() => {profile.window_js}")
            page.mouse.down()
            result = page.evaluate(_DRAG, {"cx": cx, "cy": cy, "ms": DRAG_SECONDS * 1000})
            page.mouse.move(result["x"], result["y"])
            page.mouse.up()
            page.wait_for_timeout(1500)
            after = page.evaluate(f"() => {profile.window_js}")
        finally:
            context.close()
    log = result["log"]
    if len(log) < 2:
        raise NotApplicable("n/a (no animation frames)")
    seconds = (log[-1][0] - log[0][0]) / 1000
    # Draw calls land in the animation frame after the W/L change: count frames that drew.
    drawn = sum(1 for a, b in itertools.pairwise(log) if b[1] > a[1])
    if after == before and all(row[3] == before for row in log):
        raise NotApplicable("n/a (the drag did not change W/L)")
    return {"browser_wl": drawn / seconds}


def _select_wl_tool(page, profile: PageProfile) -> None:
    """Press W (both viewers' shortcut) until the viewer reports its W/L tool."""
    for _ in range(10):
        if page.evaluate(f"() => {profile.tool_js}") == profile.wl_tool:
            return
        page.keyboard.press("w")
        page.wait_for_timeout(100)
    raise NotApplicable("n/a (the W/L tool could not be selected)")


_DRAG = """
({cx, cy, ms}) => new Promise((resolve) => {
  const B = window.__bench;
  const target = document.elementFromPoint(cx, cy);
  let x = cx, y = cy, sent = 0;
  B.log = []; B.recording = true;
  const t0 = performance.now();
  const step = () => {
    const t = (performance.now() - t0) / 1000;
    if (t * 1000 >= ms) {
      B.recording = false;
      resolve({ x, y, sent, log: B.log });
      return;
    }
    x = cx + 120 * Math.sin(t * 3);
    y = cy + 80 * Math.sin(t * 2.1);
    target.dispatchEvent(new PointerEvent("pointermove", {
      bubbles: true, composed: true, cancelable: true, pointerId: 1, pointerType: "mouse",
      isPrimary: true, clientX: x, clientY: y, screenX: x, screenY: y, buttons: 1, button: -1,
    }));
    sent++;
    requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
})
"""
