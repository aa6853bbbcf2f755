"""The file explorer with 10,000 (or 100,000) files, in headless Chromium (ours only: see
bench/README.md).

One page per run goes through what a person does with a big folder: wait for the list, type a
narrow filter, type a filter that keeps every file, scroll that list top to bottom, open the last
file, fold a series, switch to the folder view and back, clear the filter. For each step it
records, from inside the page:

- the time from the input (the last key's ``keydown``, the click's ``pointerdown``, navigation
  start for the first step) to the first animation frame where the explorer shows the result;
  keys are typed 40 ms apart, as a fast typist does;
- the longest task on the main thread during the step (from its first key when typing), and how
  many tasks took over 50 ms (``PerformanceObserver`` of type ``longtask``);
- the number of DOM elements in the sidebar once the step is over.

The scroll step moves the list 1,000 px per animation frame and reports the longest gap between
two animation frames instead of a latency.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS

from .results import fmt, render
from .servers import Program, Server

VIEWPORT = {"width": 1400, "height": 900}
NARROW_QUERY = "SCALE-0042"
BROAD_QUERY = "dcm"  # every path ends in .dcm: the whole list, every group unfolded
SCROLL_STEP_PX = 1000

_PROBE = """
(() => {
  const S = (window.__scale = { long: [], cond: null, arg: null, t0: null, first: null,
                                hit: null, keys: 0, armKeys: -1, armPointer: false });
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) S.long.push([e.startTime, e.duration]);
  }).observe({ type: "longtask", buffered: true });
  const root = () => document.querySelector("#dcmview-root")?.dataset ?? {};
  const count = () => document.querySelector(".dcmv-files .dcmv-pane-count")?.textContent ?? "";
  const conditions = {
    list: (text) => count() === text && !!document.querySelector(".dcmv-tree [role=treeitem]"),
    file: (index) => {
      const d = root();
      return d.file === String(index) && d.state === "ready" && d.shownFrame === "0";
    },
    folded: (n) => document.querySelectorAll('.dcmv-series[aria-expanded="false"]').length === n,
    mode: (m) =>
      document.querySelector(`.dcmv-tree-mode[data-mode="${m}"]`)?.getAttribute("aria-pressed")
        === "true" &&
      !!document.querySelector(m === "folder" ? ".dcmv-folder" : ".dcmv-series, .dcmv-study"),
  };
  S.watch = (cond, arg, start) => {
    S.cond = conditions[cond]; S.arg = arg; S.hit = null;
    S.t0 = S.first = start === "navigation" ? 0 : null;
    S.firstKey = S.keys + 1;
    S.armKeys = start === "keys" ? S.keys + arg.keys : -1;
    S.armPointer = start === "pointer";
    if (start === "keys") S.arg = arg.value;
  };
  document.addEventListener("keydown", () => {
    S.keys++;
    if (S.keys === S.firstKey && S.armKeys > 0) S.first = performance.now();
    if (S.keys === S.armKeys) S.t0 = performance.now();
  }, true);
  document.addEventListener("pointerdown", () => {
    if (S.armPointer) { S.t0 = S.first = performance.now(); S.armPointer = false; }
  }, true);
  const tick = () => {
    if (S.cond && S.t0 !== null && S.hit === null) {
      try { if (S.cond(S.arg)) S.hit = performance.now(); } catch {}
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();
"""

_SCROLL = """
(step) => new Promise((resolve) => {
  const el = document.querySelector(".dcmv-tree");
  el.scrollTop = 0;
  const times = [];
  const t0 = performance.now();
  const frame = () => {
    times.push(performance.now());
    if (el.scrollTop + el.clientHeight >= el.scrollHeight - 1) {
      let longest = 0;
      for (let i = 1; i < times.length; i++) longest = Math.max(longest, times[i] - times[i - 1]);
      resolve({ t0, ms: performance.now() - t0, frames: times.length, longest });
      return;
    }
    el.scrollTop += step;
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
})
"""

_NODES = "() => document.querySelectorAll('.dcmv-files *').length"

# Step key -> label of its row.
STEPS = {
    "load": "navigation → file list shown",
    "narrow": f"type a narrow filter ({NARROW_QUERY!r} → 200 files)",
    "broad": f"type a filter keeping every file ({BROAD_QUERY!r}): all groups unfold",
    "scroll": "scroll that list top → bottom (1,000 px per frame)",
    "deep": "click the last file → its frame shown",
    "fold": "fold a series of that list",
    "folder": "switch to the folder view",
    "study": "switch back to the study view",
    "clear": "clear the filter",
}


_FILTERED_FIELDS = (
    "label",
    "path",
    "patient_id",
    "patient_name",
    "study_date",
    "study_description",
    "series_description",
    "modality",
    "series_number",
    "instance_number",
)


def expected_count(files: list[dict], query: str) -> int:
    """How many files the explorer's filter keeps (``filterFiles`` in js/src/files.ts)."""
    words = query.lower().split()

    def hay(f: dict) -> str:
        parts = ["" if f[k] is None else str(f[k]) for k in _FILTERED_FIELDS]
        return "\n".join(parts).lower()

    return sum(1 for f in files if all(w in hay(f) for w in words))


class _Session:
    """One viewer page, its probe, and the steps in :data:`STEPS` order (one method each)."""

    def __init__(self, page, files: list[dict]) -> None:
        self.page = page
        self.files = files
        self.total = len(files)

    def watch(self, cond: str, arg: object, start: str) -> None:
        self.page.evaluate("([c, a, s]) => window.__scale.watch(c, a, s)", [cond, arg, start])

    def result(self, timeout_s: float = 60.0) -> dict[str, float]:
        """Wait for the watched condition; its latency, the step's long tasks and DOM size."""
        self.page.wait_for_function(
            "() => window.__scale.hit !== null", timeout=timeout_s * 1000, polling=20
        )
        self.page.wait_for_timeout(300)  # let trailing work of the step land in `long`
        t0, first, hit, long = self.page.evaluate(
            "() => { const S = window.__scale; return [S.t0, S.first, S.hit, S.long]; }"
        )
        return {"ms": hit - t0, **_long_tasks(long, first), "nodes": self.page.evaluate(_NODES)}

    def count_text(self, query: str) -> str:
        """What the explorer's counter says once `query` is applied (``FileTree.render``)."""
        return f"{expected_count(self.files, query)} of {self.total}" if query else str(self.total)

    def type_filter(self, query: str) -> dict[str, float]:
        box = self.page.locator(".dcmv-files .dcmv-filter")
        box.fill("")
        self.page.wait_for_function(
            "(t) => document.querySelector('.dcmv-pane-count').textContent === t",
            arg=self.count_text(""),
        )
        box.click()
        self.watch("list", {"keys": len(query), "value": self.count_text(query)}, "keys")
        self.page.keyboard.type(query, delay=40)
        return self.result()

    def click(self, locator, cond: str, arg: object) -> dict[str, float]:
        self.watch(cond, arg, "pointer")
        locator.click()
        return self.result()

    def load(self, url: str) -> dict[str, float]:
        self.page.goto(url)
        self.page.wait_for_function("() => !!window.__scale")
        self.watch("list", self.count_text(""), "navigation")
        measured = self.result()
        self.page.wait_for_function(
            "() => document.querySelector('#dcmview-root')?.dataset.state === 'ready'"
        )
        self.page.wait_for_timeout(500)  # the tags of the first file, garbage collection
        return measured

    def narrow(self) -> dict[str, float]:
        return self.type_filter(NARROW_QUERY)

    def broad(self) -> dict[str, float]:
        return self.type_filter(BROAD_QUERY)

    def scroll(self) -> dict[str, float]:
        scrolled = self.page.evaluate(_SCROLL, SCROLL_STEP_PX)
        self.page.wait_for_timeout(300)
        long = self.page.evaluate("() => window.__scale.long")
        nodes = self.page.evaluate(_NODES)
        return {"ms": scrolled["longest"], **_long_tasks(long, scrolled["t0"]), "nodes": nodes}

    def deep(self) -> dict[str, float]:
        last = self.page.locator(".dcmv-file").last
        return self.click(last, "file", int(last.get_attribute("data-file") or -1))

    def fold(self) -> dict[str, float]:
        return self.click(self.page.locator(".dcmv-series").last, "folded", 1)

    def folder(self) -> dict[str, float]:
        button = self.page.locator('.dcmv-tree-mode[data-mode="folder"]')
        return self.click(button, "mode", "folder")

    def study(self) -> dict[str, float]:
        button = self.page.locator('.dcmv-tree-mode[data-mode="study"]')
        return self.click(button, "mode", "study")

    def clear(self) -> dict[str, float]:
        self.page.locator(".dcmv-files .dcmv-filter").select_text()
        self.watch("list", {"keys": 1, "value": self.count_text("")}, "keys")
        self.page.keyboard.press("Delete")
        return self.result()


def _long_tasks(long: list[list[float]], since: float) -> dict[str, float]:
    mine = [d for start, d in long if start + d >= since]
    return {"longest": max(mine, default=0.0), "over50": sum(1 for d in mine if d > 50)}


def one_run(browser, program: Program, folder: Path, log: Callable[[str], None]) -> dict:
    """Every step once, on a fresh server and page: ``{step: {metric: value}}``."""
    out: dict[str, dict[str, float]] = {}
    with Server(program, [folder]) as server:
        server.wait_loaded(timeout=600)
        context = browser.new_context(viewport=VIEWPORT)
        try:
            page = context.new_page()
            page.add_init_script(_PROBE)
            session = _Session(page, server.client.json("/api/files")["files"])
            for step in STEPS:
                args = (server.url,) if step == "load" else ()
                out[step] = getattr(session, step)(*args)
                log(f"    {step}: " + ", ".join(f"{k} {v:.0f}" for k, v in out[step].items()))
        finally:
            context.close()
    return out


def run(program: Program, folder: Path, runs: int, log: Callable[[str], None]) -> list[list[str]]:
    """Medians over `runs` fresh pages; the rows of the explorer table."""
    from playwright.sync_api import sync_playwright

    values: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for run_index in range(runs):
                log(f"  {program.name} [{run_index + 1}/{runs}]")
                for step, measured in one_run(browser, program, folder, log).items():
                    for key, value in measured.items():
                        values[step][key].append(float(value))
        finally:
            browser.close()
    rows = []
    for step, label in STEPS.items():
        if step not in values:
            continue
        v = {k: statistics.median(x) for k, x in values[step].items()}
        time_cell = (
            f"longest frame {fmt(v['ms'], 'ms')}" if step == "scroll" else fmt(v["ms"], "ms")
        )
        longest = fmt(v["longest"], "ms") if v["longest"] else "—"
        rows.append([label, time_cell, longest, f"{v['over50']:.0f}", f"{v['nodes']:.0f}"])
    return rows


def table(rows: list[list[str]], files: int) -> str:
    """The explorer table (the Long Tasks API reports tasks of 50 ms or more: "—" is none)."""
    head = [f"Explorer, {files:,} files", "Time", "Longest task", "Tasks > 50 ms"]
    head.append("Sidebar elements")
    return render(rows, head)
