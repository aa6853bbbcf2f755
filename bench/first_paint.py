"""First paint of a 3328×2560 JPEG 2000 frame in headless Chromium (issue 14; target ≤ 300 ms).

    python bench/first_paint.py [--reference PATH_TO_ORIGINAL_DCMVIEW_BINARY] [--runs 5]

Serves one mammography-size JPEG 2000 lossless frame (12 bits stored, generated once with
``tests/dicomgen.py`` into the bench cache) and opens the viewer page in a fresh context per
run, the programs alternated. Prints the medians, in milliseconds from the start of the
navigation (``performance.now()`` in the page), of:

- first paint: the first animation frame in which the viewer shows the frame (ours: its
  ``data-shown-frame`` is 0 with a ``data-source``; the original: its ``data-capture-rendered``)
  and a draw call reached its image canvas (``bench/browser.py``'s probe). Ours paints a
  reduced-resolution picture first and says so (``data-reduced``);
- full resolution (ours): the first animation frame showing the full raw frame;
- the floor (ours): the first paint of a 512² uncompressed frame in the same conditions: what
  the page, the file list and one small frame cost before any decoding (on a loaded machine
  the target is better read against it).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import browser as br
from bench import data as bench_data
from bench.results import NotApplicable
from bench.servers import Program, Server, ours, programs
from tests import dicomgen

SHAPE = (3328, 2560)
TARGET_MS = 300.0
_STATE = "document.querySelector('#dcmview-root')?.dataset"
# Ours, on screen: the frame is shown (reduced or not), whatever is still loading.
FIRST = br.PageProfile(
    **{
        **vars(br.OURS),
        "ready_js": f"(d => !!d && !!d.source && d.shownFrame === '0')({_STATE})",
    }
)
FULL_JS = f"(d => !!d && d.state === 'ready' && d.source === 'raw' && !d.reduced)({_STATE})"


def frame_file(root: Path) -> Path:
    """The 3328×2560 JPEG 2000 lossless frame (written once, ~2 s)."""
    path = root / "first_paint" / "mammo_3328x2560_j2k.dcm"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        written = dicomgen.write_mammography(
            path.parent,
            name=path.name + ".part",
            rows=SHAPE[0],
            columns=SHAPE[1],
            transfer_syntax=dicomgen.JPEG2000Lossless,
            patient_id="BENCH-J2K",
        )
        written.path.rename(path)
    return path


def floor_file(root: Path) -> Path:
    """A 512² uncompressed frame (the floor row)."""
    path = root / "first_paint" / "floor_512.dcm"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        dicomgen.write_image(path, dicomgen.phantom(512, 512), patient_id="BENCH-FLOOR")
    return path


def measure(browser: br.Browser, program: Program, path: Path) -> dict[str, float]:
    """One run: a fresh server and page; milliseconds to the first paint (and to full)."""
    profile = FIRST if program.name == "ours" else br.PROFILES[program.name]
    with Server(program, [path]) as server:
        server.wait_loaded()
        page, context, first = browser.open(server, profile, timeout_s=60)
        try:
            out = {"first": first}
            if program.name == "ours":
                out["reduced"] = float(page.evaluate(f"() => Number({_STATE}.reduced || 1)"))
                page.wait_for_function(f"() => {FULL_JS}", timeout=60_000, polling="raf")
                out["full"] = float(page.evaluate("() => performance.now()"))
        finally:
            context.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, help="the original dcmview binary")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--data-dir", type=Path, default=bench_data.default_root())
    args = parser.parse_args()
    why = br.available()
    if why:
        print(f"cannot run: {why}", file=sys.stderr)
        return 1
    path = frame_file(args.data_dir)
    floor = floor_file(args.data_dir)
    chosen = programs(parser, args.reference, ours())
    samples: dict[str, dict[str, list[float]]] = {p.name: {} for p in chosen}
    samples["ours, 512² uncompressed (floor)"] = {}
    browser = br.Browser()
    try:
        for run in range(args.runs):
            order = chosen if run % 2 == 0 else list(reversed(chosen))
            for program in order:
                try:
                    result = measure(browser, program, path)
                except NotApplicable as exc:
                    print(f"  run {run + 1} {program.name}: {exc}", file=sys.stderr)
                    continue
                for key, value in result.items():
                    samples[program.name].setdefault(key, []).append(value)
                shown = ", ".join(f"{k} {v:.0f}" for k, v in result.items())
                print(f"  run {run + 1} {program.name}: {shown}", file=sys.stderr, flush=True)
            with Server(ours(), [floor]) as server:
                server.wait_loaded()
                _page, context, ms = browser.open(server, FIRST, timeout_s=60)
                context.close()
            samples["ours, 512² uncompressed (floor)"].setdefault("first", []).append(ms)
            print(f"  run {run + 1} floor: first {ms:.0f}", file=sys.stderr, flush=True)
    finally:
        browser.close()
    print(f"First paint of a {SHAPE[0]}×{SHAPE[1]} JPEG 2000 lossless frame in Chromium")
    print(f"(medians of {args.runs}, ms from navigation start; target ≤ {TARGET_MS:.0f} ms)\n")
    print("| Program | First paint (ms) | Full resolution (ms) | First paint shown at |")
    print("|---|---|---|---|")
    for name, got in samples.items():
        first = _median(got.get("first"))
        full = _median(got.get("full"))
        factor = _median(got.get("reduced"))
        at = "—" if factor is None else ("full size" if factor <= 1 else f"1/{factor:.0f} size")
        print(f"| {name} | {_cell(first)} | {_cell(full)} | {at} |")
    first = _median(samples["ours"].get("first"))
    if first is not None:
        verdict = "met" if first <= TARGET_MS else "NOT met"
        print(f"\nTarget ≤ {TARGET_MS:.0f} ms: {verdict} ({first:.0f} ms)")
    return 0


def _median(values: list[float] | None) -> float | None:
    return statistics.median(values) if values else None


def _cell(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


if __name__ == "__main__":
    sys.exit(main())
