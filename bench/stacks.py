"""Series as stacks in headless Chromium (SPEC §9): cine and wheel scrolling across files.

    python bench/stacks.py [--runs 3] [--wheel-ms 25] [--no-widget]

On a 200-file 512² CT series (single-frame files, generated), prints medians over ``--runs``:

- cine at 24 fps across the stack's files, from the key press, on the server page and in the
  notebook widget in a real JupyterLab (the same figure ``bench/browser.py`` and
  ``bench/widget.py`` give for a multi-frame file), and how many images cine waited for;
- a wheel scroll through all 200 slices, one wheel step (50 px, one image) every ``--wheel-ms``
  (dispatched in the page by a timer, which a busy page delays: the steps per second reached
  are printed too): images shown per second, and the wheel steps after which the image on
  screen when the next step came was stale (an earlier image, still waiting for its data) or
  blank. A requestAnimationFrame loop in the page samples what is shown.

It prints figures; nothing in ``tests/`` is timed.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import nbformat
from playwright.sync_api import Page, sync_playwright

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests import dicomgen  # noqa: E402
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.browser.test_stacks_cine import STACK_RECORDER  # noqa: E402
from tests.harness import DcmviewProcess  # noqa: E402
from tests.jupyter_harness import JupyterProcess, run_notebook_cell  # noqa: E402

FILES = 200
SIZE = 512
FPS = 24
TOKEN = "bench-stacks-token-0123456789abcdefghijklmnopqrstu"
VIEWPORT = {"width": 1400, "height": 900}

# Samples what the viewer shows once per presented frame, and the time of every wheel event.
SAMPLER = """(selector) => {
    window.__samples = [];
    window.__wheels = [];
    const root = document.querySelector(selector);
    window.addEventListener('wheel', () => window.__wheels.push(performance.now()),
                            {capture: true, passive: true});
    const tick = (t) => {
        const d = root.dataset;
        window.__samples.push([t, Number(d.position), Number(d.file), Number(d.shownFile),
                               d.source || '']);
        if (!window.__stopSampling) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
}"""


def wait_stack(page: Page, selector: str) -> None:
    page.wait_for_function(
        f"""() => {{ const d = document.querySelector('{selector}')?.dataset;
            return !!d && d.state === 'ready' && d.stackLength === '{FILES}'; }}""",
        timeout=120_000,
    )


def to_first_image(page: Page, selector: str) -> None:
    page.locator(f"{selector} .dcmv-slider").fill("0")
    page.wait_for_function(
        f"""() => {{ const d = document.querySelector('{selector}').dataset;
            return d.position === '0' && d.shownFile === d.file && d.state === 'ready'; }}"""
    )


def cine(page: Page, selector: str) -> tuple[float, int]:
    """Play the stack once at 24 fps from image 1; (fps from the key press, stalls)."""
    to_first_image(page, selector)
    page.locator(f"{selector} .dcmv-fps").select_option(str(FPS))
    page.evaluate(STACK_RECORDER, selector)
    page.evaluate(
        """(sel) => { const root = document.querySelector(sel); window.__played = null;
            new MutationObserver(() => { if (root.dataset.playing === 'true')
                window.__played ??= performance.now(); })
              .observe(root, {attributes: true, attributeFilter: ['data-playing']}); }""",
        selector,
    )
    page.locator(f"{selector} .dcmv-viewport").click()
    page.keyboard.press("Space")
    page.wait_for_function(f"() => window.__images.length >= {FILES}", timeout=300_000)
    page.keyboard.press("Space")
    shown = page.evaluate("window.__images")[:FILES]
    played = page.evaluate("window.__played")
    stalls = int(page.evaluate(f"document.querySelector('{selector}').dataset.cineStalls"))
    return FILES / ((shown[-1][0] - played) / 1000), stalls


def wheel_scroll(page: Page, selector: str, step_ms: float) -> tuple[float, float, int, int]:
    """Wheel through the stack; (images shown and steps per second, stale and blank steps)."""
    to_first_image(page, selector)
    box = page.locator(f"{selector} .dcmv-viewport").bounding_box()
    assert box
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.evaluate(SAMPLER, selector)
    # The steps are dispatched in the page at a fixed rate: driving the mouse from here would
    # pace them by the round trip to the browser, not by the viewer.
    page.evaluate(
        """([sel, n, ms]) => new Promise((done) => {
            const el = document.querySelector(sel);
            const r = el.getBoundingClientRect();
            const at = {clientX: r.x + r.width / 2, clientY: r.y + r.height / 2};
            let sent = 0;
            const timer = setInterval(() => {
                el.dispatchEvent(new WheelEvent('wheel', {deltaY: 50, deltaMode: 0, bubbles: true,
                                                          cancelable: true, ...at}));
                if (++sent === n) { clearInterval(timer); done(); }
            }, ms);
        })""",
        [f"{selector} .dcmv-viewport", FILES - 1, step_ms],
    )
    page.wait_for_function(
        f"""() => {{ const d = document.querySelector('{selector}').dataset;
            return d.position === '{FILES - 1}' && d.shownFile === d.file; }}""",
        timeout=60_000,
    )
    page.wait_for_timeout(100)
    page.evaluate("window.__stopSampling = true")
    samples: list[list[Any]] = page.evaluate("window.__samples")
    wheels: list[float] = page.evaluate("window.__wheels")
    # What was on screen when each next step came (the last step: when scrolling ended).
    ends = [*wheels[1:], samples[-1][0] + 1]
    stale = blank = 0
    for end in ends:
        before = [s for s in samples if s[0] < end]
        if not before:
            continue
        _, _, file, shown, source = before[-1]
        if shown < 0 or not source:
            blank += 1
        elif shown != file:
            stale += 1
    changes = [s[0] for a, s in itertools.pairwise(samples) if s[3] != a[3]]
    rate = len(changes) / ((changes[-1] - wheels[0]) / 1000) if changes else 0.0
    steps = (len(wheels) - 1) / ((wheels[-1] - wheels[0]) / 1000)
    return rate, steps, stale, blank


def server_page(folder: Path, step_ms: float) -> tuple[float, int, float, float, int, int]:
    with (
        DcmviewProcess("--port", "0", str(folder), env={"DCMVIEW_TOKEN": TOKEN}) as server,
        sync_playwright() as p,
    ):
        server.wait_scan(timeout=300)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport=VIEWPORT).new_page()
        page.set_default_timeout(120_000)
        page.goto(server.url)
        wait_stack(page, "#dcmview-root")
        fps, stalls = cine(page, "#dcmview-root")
        page.reload()  # a cold cache for the scroll
        wait_stack(page, "#dcmview-root")
        rate, steps, stale, blank = wheel_scroll(page, "#dcmview-root", step_ms)
        browser.close()
    return fps, stalls, rate, steps, stale, blank


def widget(folder: Path, work: Path) -> tuple[float, int]:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"import dcmview\nv = dcmview.Viewer([r'{folder}'])\nv")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, work / "bench.ipynb")
    lab = JupyterProcess(work, app="jupyterlab")
    lab.wait_ready()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_context(viewport=VIEWPORT).new_page()
            page.set_default_timeout(300_000)
            page.goto(f"{lab.base}/lab/tree/bench.ipynb?reset&token={lab.token}")
            page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').wait_for()
            run_notebook_cell(page, 0)
            wait_stack(page, ".dcmv-widget")
            result = cine(page, ".dcmv-widget")
            browser.close()
    finally:
        lab.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--wheel-ms", type=float, default=25.0, help="time between wheel steps")
    parser.add_argument("--no-widget", action="store_true", help="skip the JupyterLab widget")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="dcmview-stacks-bench-"))
    folder = data / "ct"
    dicomgen.write_ct_series(folder, count=FILES, size=SIZE, patient_id="BENCH-STACK")
    page_runs, widget_runs = [], []
    try:
        for run in range(args.runs):
            page_runs.append(server_page(folder, args.wheel_ms))
            fps, stalls, rate, steps, stale, blank = page_runs[-1]
            line = f"run {run + 1}: page cine {fps:.2f} fps ({stalls} stalls); wheel {rate:.1f}"
            line += f" images/s at {steps:.1f} steps/s, {stale} stale, {blank} blank"
            if not args.no_widget:
                work = data / f"lab{run}"
                work.mkdir()
                widget_runs.append(widget(folder, work))
                line += f"; widget cine {widget_runs[-1][0]:.2f} fps ({widget_runs[-1][1]} stalls)"
            print(line, flush=True)
    finally:
        shutil.rmtree(data, ignore_errors=True)

    def med(rows: list[Any], i: int) -> float:
        return statistics.median(r[i] for r in rows)

    print(f"\n| stack scenario ({FILES} files of {SIZE}²) | median of {args.runs} |")
    print("|---|---|")
    print(
        f"| cine at {FPS} fps, server page | {med(page_runs, 0):.2f} fps "
        f"({med(page_runs, 1):.0f} stalls) |"
    )
    if widget_runs:
        print(
            f"| cine at {FPS} fps, widget in JupyterLab | {med(widget_runs, 0):.2f} fps "
            f"({med(widget_runs, 1):.0f} stalls) |"
        )
    print(
        f"| wheel scroll, a step every {args.wheel_ms:g} ms: images shown per second "
        f"(steps per second reached) | {med(page_runs, 2):.1f} ({med(page_runs, 3):.1f}) |"
    )
    print(
        f"| wheel steps showing a stale / blank image (of {FILES - 1}) | "
        f"{med(page_runs, 4):.0f} / {med(page_runs, 5):.0f} |"
    )


if __name__ == "__main__":
    main()
