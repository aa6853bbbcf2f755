"""The notebook widget in a real JupyterLab: cine rate and first mammography frame (SPEC §8).

    python bench/widget.py [--runs 3]

Starts JupyterLab on loopback with isolated config (the tests' harness), opens a notebook with
two ``dcmview.Viewer`` cells in headless Chromium, and prints: the cine rate of a 100-frame 512²
file played at 24 fps (from the key press), the time from running a cell to a 3000×2500 frame on
screen, and the saved size of the notebook holding both widgets. Medians over ``--runs``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import nbformat
from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests import dicomgen  # noqa: E402
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.browser.helpers import CINE_RECORDER  # noqa: E402
from tests.jupyter_harness import JupyterProcess, run_notebook_cell  # noqa: E402

WIDGET = ".dcmv-widget"


def one_run(work: Path) -> tuple[float, float, int, int]:
    lab = JupyterProcess(work, app="jupyterlab")
    lab.wait_ready()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            page.set_default_timeout(120_000)
            page.goto(f"{lab.base}/lab/tree/bench.ipynb?reset&token={lab.token}")
            page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').wait_for()
            run_notebook_cell(page, 0)
            page.wait_for_function(
                f"() => {{ const d = document.querySelector('{WIDGET}')?.dataset;"
                " return !!d && d.state === 'ready' && d.source === 'raw'; }"
            )
            page.locator(f"{WIDGET} .dcmv-fps").select_option("24")
            page.evaluate(CINE_RECORDER, WIDGET)
            page.locator(f"{WIDGET} .dcmv-viewport").click()
            page.keyboard.press("Space")
            page.wait_for_function("() => window.__shown.length >= 100")
            page.keyboard.press("Space")
            shown = page.evaluate("window.__shown")[:100]
            fps = 100 / ((shown[99][0] - page.evaluate("window.__played")) / 1000)
            stalls = int(page.evaluate(f"document.querySelector('{WIDGET}').dataset.cineStalls"))
            t0 = page.evaluate("performance.now()")
            run_notebook_cell(page, 1)
            page.wait_for_function(
                f"() => {{ const w = document.querySelectorAll('{WIDGET}')[1];"
                " return !!w && w.dataset.state === 'ready' && w.dataset.source === 'raw'; }"
            )
            first = (page.evaluate("performance.now()") - t0) / 1000
            page.keyboard.press("Control+s")
            page.wait_for_timeout(1500)
            browser.close()
    finally:
        lab.stop()
    return fps, first, stalls, (work / "bench.ipynb").stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="dcmview-widget-bench-"))
    (data / "cine").mkdir()
    (data / "mg").mkdir()
    dicomgen.write_multiframe(data / "cine", frames=100, rows=512, columns=512)
    dicomgen.write_mammography(data / "mg")
    results = []
    for run in range(args.runs):
        work = data / f"run{run}"
        work.mkdir()
        nb = nbformat.v4.new_notebook()
        nb.cells = [
            nbformat.v4.new_code_cell(
                f"import dcmview\nv = dcmview.Viewer([r'{data / 'cine'}'])\nv"
            ),
            nbformat.v4.new_code_cell(f"m = dcmview.Viewer([r'{data / 'mg'}'])\nm"),
        ]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
        nbformat.write(nb, work / "bench.ipynb")
        results.append(one_run(work))
        fps, first, stalls, _ = results[-1]
        print(f"run {run + 1}: cine {fps:.2f} fps ({stalls} stalls), mammography {first:.2f} s")
    fps = statistics.median(r[0] for r in results)
    first = statistics.median(r[1] for r in results)
    print(f"\n| widget scenario | median of {args.runs} | SPEC §8 target |")
    print("|---|---|---|")
    print(f"| cine 100×512² at 24 fps | {fps:.2f} fps | ≥ 23 fps |")
    print(f"| 3000×2500 frame on screen after running the cell | {first:.2f} s | ≤ 2 s |")
    print(f"| saved notebook with two viewers | {results[-1][3]} bytes | small |")
    shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
