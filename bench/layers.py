"""Layers in headless Chromium (SPEC §10): from ``add_layer`` to the overlay on screen, and the
wheel scroll rate with two layers over a 200-slice series.

    python bench/layers.py [--runs 3] [--wheel-ms 25] [--slow-ms 100] [--no-widget]

On a 200-file 512² CT series (generated, with a Frame of Reference), prints medians over
``--runs``:

- the wheel scroll through all 200 slices (a step of one image every ``--wheel-ms``,
  dispatched in the page) on the server page, without layers and with two (a DICOM SEG of three
  segments read with highdicom, and a NIfTI float map given as ``--overlay``): images shown per
  second, and the steps after which the image on screen lacked a layer slice it has (not loaded
  yet; never another image's slice); with layers again at a step every ``--slow-ms``;
- the time from ``handle.add_layer(mask)`` (a ``view()`` handle, in this process) to the mask
  drawn on the server page, which learns of new layers by polling ``api/layers`` every 2 s;
- the time from ``viewer.add_layer(mask)`` in a JupyterLab cell to the mask drawn in the widget
  (the ``layers_version`` trait tells it), unless ``--no-widget``.

Times on both sides are wall-clock milliseconds (``time.time()`` and ``Date.now()``, one
machine). It prints figures; nothing in ``tests/`` is timed.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
from playwright.sync_api import Page, sync_playwright

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import dcmview  # noqa: E402
from tests import layergen  # noqa: E402
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.harness import DcmviewProcess  # noqa: E402
from tests.jupyter_harness import JupyterProcess, run_notebook_cell  # noqa: E402

FILES = 200
SIZE = 512
TOKEN = "bench-layers-token-0123456789abcdefghijklmnopqrstu"
VIEWPORT = {"width": 1400, "height": 900}
ROOT = "#dcmview-root"

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
                               d.layersShown || '']);
        if (!window.__stopSampling) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
}"""
# Records (Date.now()) when the root first names a layer as drawn.
SHOWN_RECORDER = """(selector) => {
    window.__layerAt = null;
    const root = document.querySelector(selector);
    new MutationObserver(() => {
        if (root.dataset.layersShown && window.__layerAt === null) window.__layerAt = Date.now();
    }).observe(root, {attributes: true, attributeFilter: ['data-layers-shown']});
}"""


def make_data(folder: Path) -> tuple[Path, Path]:
    """The CT series (in ``folder/ct``) with a SEG beside it, and a NIfTI float map."""
    ct = layergen.write_ct(folder / "ct", count=FILES, rows=SIZE, columns=SIZE, step=1.0)
    mask = np.zeros((FILES, SIZE, SIZE), np.uint8)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    for k in range(FILES):  # three blobs that move along the stack
        for value, (cy, cx) in enumerate(((150, 150), (300, 350), (400, 180)), start=1):
            r = 40 + 20 * np.sin(k / 15 + value)
            mask[k][(yy - cy - k / 4) ** 2 + (xx - cx) ** 2 < r * r] = value
    layergen.write_seg(
        folder / "ct" / "seg.dcm",
        ct,
        mask,
        labels=(("Liver", "red"), ("Lesion", "lime"), ("Kidney", "gold")),
    )
    volume = np.exp(-(((xx - 256) / 120.0) ** 2 + ((yy - 256) / 90.0) ** 2)).astype(np.float32)
    heat = np.repeat(volume.T[:, :, None], FILES, axis=2)  # (column, row, slice)
    affine = np.diag([-0.7, -0.7, 1.0, 1.0])  # the CT's grid, as RAS
    nifti = layergen.write_nifti(folder / "heat.nii.gz", heat, affine)
    return folder / "ct", nifti


def wait_stack(page: Page, selector: str) -> None:
    page.wait_for_function(
        f"""() => {{ const d = document.querySelector('{selector}')?.dataset;
            return !!d && d.state === 'ready' && d.stackLength === '{FILES}'; }}""",
        timeout=120_000,
    )


def open_first_image(page: Page, server: DcmviewProcess) -> None:
    page.goto(server.url)
    wait_stack(page, ROOT)
    page.locator(f"{ROOT} .dcmv-slider").fill("0")
    page.wait_for_function(
        f"""() => {{ const d = document.querySelector('{ROOT}').dataset;
            return d.position === '0' && d.shownFile === d.file && d.state === 'ready'; }}"""
    )


def wheel_scroll(page: Page, layers: int, step_ms: float) -> tuple[float, float, int]:
    """Wheel through the stack; (images shown per second, steps per second, steps that ended
    on an image lacking one of its ``layers`` layer slices)."""
    box = page.locator(f"{ROOT} .dcmv-viewport").bounding_box()
    assert box
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.evaluate(SAMPLER, ROOT)
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
        [f"{ROOT} .dcmv-viewport", FILES - 1, step_ms],
    )
    page.wait_for_function(
        f"""() => {{ const d = document.querySelector('{ROOT}').dataset;
            return d.position === '{FILES - 1}' && d.shownFile === d.file; }}""",
        timeout=60_000,
    )
    page.wait_for_timeout(100)
    page.evaluate("window.__stopSampling = true")
    samples: list[list[Any]] = page.evaluate("window.__samples")
    wheels: list[float] = page.evaluate("window.__wheels")
    ends = [*wheels[1:], samples[-1][0] + 1]
    missing = 0
    for end in ends:
        before = [s for s in samples if s[0] < end]
        if before and layers and len(before[-1][4].split()) < layers:
            missing += 1
    changes = [s[0] for a, s in itertools.pairwise(samples) if s[3] != a[3]]
    rate = len(changes) / ((changes[-1] - wheels[0]) / 1000) if changes else 0.0
    steps = (len(wheels) - 1) / ((wheels[-1] - wheels[0]) / 1000)
    return rate, steps, missing


def scroll_run(ct: Path, nifti: Path | None, step_ms: float) -> tuple[float, float, int]:
    args = ["--port", "0", str(ct)]
    if nifti is not None:
        args += ["--overlay", str(nifti)]
    else:
        args += ["--filter", "modality=CT"]  # the SEG's own series left out: no layer
    with (
        DcmviewProcess(*args, env={"DCMVIEW_TOKEN": TOKEN}) as server,
        sync_playwright() as p,
    ):
        server.wait_scan(timeout=300)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport=VIEWPORT).new_page()
        page.set_default_timeout(120_000)
        open_first_image(page, server)
        layers = len(server.get("api/layers").json())
        result = wheel_scroll(page, layers, step_ms)
        browser.close()
    return result


def handle_latency(ct: Path) -> float:
    """ms from ``handle.add_layer`` to the mask drawn on the server page."""
    handle = dcmview.view([str(ct)], block=False, browser=False, filters={"modality": "CT"})
    try:
        handle.wait_ready(120)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_context(viewport=VIEWPORT).new_page()
            page.set_default_timeout(120_000)
            page.goto(handle.url)
            wait_stack(page, ROOT)
            page.wait_for_timeout(500)
            page.evaluate(SHOWN_RECORDER, ROOT)
            mask = np.zeros((FILES, SIZE, SIZE), np.uint8)
            mask[:, 100:300, 100:300] = 1
            start = time.time() * 1000
            handle.add_layer(mask)
            page.wait_for_function("() => window.__layerAt !== null", timeout=30_000)
            shown = page.evaluate("window.__layerAt")
            browser.close()
    finally:
        handle.stop()
    return shown - start


def widget_latency(ct: Path, work: Path) -> float:
    """ms from ``viewer.add_layer`` in a JupyterLab cell to the mask drawn in the widget."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            f"import dcmview, numpy as np, time\n"
            f"v = dcmview.Viewer([r'{ct}'], filters={{'modality': 'CT'}})\nv"
        ),
        nbformat.v4.new_code_cell(
            f"mask = np.zeros(({FILES}, {SIZE}, {SIZE}), np.uint8)\nmask[:, 100:300, 100:300] = 1\n"
            "start = time.time() * 1000\nlayer = v.add_layer(mask)\nprint('START', start)"
        ),
    ]
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
            page.evaluate(SHOWN_RECORDER, ".dcmv-widget")
            run_notebook_cell(page, 1)
            page.wait_for_function("() => window.__layerAt !== null", timeout=60_000)
            shown = page.evaluate("window.__layerAt")
            output = page.locator(".jp-Notebook .jp-Cell").nth(1).locator(".jp-OutputArea")
            output.filter(has_text="START").wait_for()
            start = float(output.inner_text().split("START")[1].split()[0])
            browser.close()
    finally:
        lab.stop()
    return shown - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--wheel-ms", type=float, default=25.0, help="time between wheel steps")
    parser.add_argument("--no-widget", action="store_true", help="skip the JupyterLab widget")
    data = Path(tempfile.mkdtemp(prefix="dcmview-layers-bench-"))
    parser.add_argument("--slow-ms", type=float, default=100.0, help="a slower wheel, layers")
    args = parser.parse_args()
    rows: dict[str, list[Any]] = {"bare": [], "layers": [], "slow": [], "handle": [], "widget": []}
    try:
        print("generating the data...", file=sys.stderr, flush=True)
        ct, nifti = make_data(data)
        for run in range(args.runs):
            rows["bare"].append(scroll_run(ct, None, args.wheel_ms))
            rows["layers"].append(scroll_run(ct, nifti, args.wheel_ms))
            rows["slow"].append(scroll_run(ct, nifti, args.slow_ms))
            rows["handle"].append(handle_latency(ct))
            line = (
                f"run {run + 1}: scroll {rows['bare'][-1][0]:.1f} images/s bare, "
                f"{rows['layers'][-1][0]:.1f} with two layers "
                f"({rows['layers'][-1][2]} steps lacking a layer), {rows['slow'][-1][0]:.1f} "
                f"at a slower wheel ({rows['slow'][-1][2]} lacking); "
                f"handle.add_layer → page {rows['handle'][-1]:.0f} ms"
            )
            if not args.no_widget:
                work = data / f"lab{run}"
                work.mkdir()
                rows["widget"].append(widget_latency(ct, work))
                line += f"; viewer.add_layer → widget {rows['widget'][-1]:.0f} ms"
            print(line, flush=True)
    finally:
        shutil.rmtree(data, ignore_errors=True)

    def med(name: str, i: int | None = None) -> float:
        return statistics.median(r if i is None else r[i] for r in rows[name])

    print(f"\n| layers scenario ({FILES} files of {SIZE}²) | median of {args.runs} |")
    print("|---|---|")
    print(
        f"| wheel scroll, a step every {args.wheel_ms:g} ms, no layer: images shown per second "
        f"(steps per second reached) | {med('bare', 0):.1f} ({med('bare', 1):.1f}) |"
    )
    print(
        f"| same with two layers (SEG, NIfTI float map) | {med('layers', 0):.1f} "
        f"({med('layers', 1):.1f}); {med('layers', 2):.0f} of {FILES - 1} steps ended before "
        "both layer slices were drawn |"
    )
    print(
        f"| same, a step every {args.slow_ms:g} ms | {med('slow', 0):.1f} ({med('slow', 1):.1f}); "
        f"{med('slow', 2):.0f} of {FILES - 1} steps ended before both layer slices were drawn |"
    )
    print(f"| `handle.add_layer(mask)` → drawn on the server page | {med('handle'):.0f} ms |")
    if rows["widget"]:
        widget_ms = med("widget")
        print(f"| `viewer.add_layer(mask)` → drawn in the JupyterLab widget | {widget_ms:.0f} ms |")


if __name__ == "__main__":
    main()
