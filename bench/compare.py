"""Side-by-side benchmark of this dcmview against the original ``dcmview-py`` binary (SPEC §8).

    python bench/compare.py --reference PATH_TO_ORIGINAL_DCMVIEW_BINARY [--runs 5] [--quick]

Generates its data once (see ``bench/data.py``), runs every scenario ``--runs`` times with the
two programs alternated (ours first on even runs, the original first on odd ones), each on a
fresh server, and prints one Markdown table of medians. See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import browser as br
from bench import data as bench_data
from bench import http_scenarios as hs
from bench.results import NotApplicable, Samples, render, rows
from bench.servers import Program, ours, programs

GROUPS = ("start", "scan", "first", "cached", "sequential", "browser")


@dataclass
class Job:
    """One scenario: `run(program)` measures it once; `keys` are the cells it fills."""

    name: str
    keys: list[str]
    run: Callable[[Program], dict[str, float]]


def jobs_for(group: str, data: bench_data.BenchData, args, ctx: dict) -> list[Job]:
    if group == "start":
        return [Job("start → health", ["start"], lambda p: hs.start(p, data))]
    if group == "scan":
        keys = ["scan", "scan_after_up", "idle_rss"]
        return [Job("500-file scan", keys, lambda p: hs.scan(p, data))]
    if group == "first":
        cases = [
            ("512", data.multiframe("native"), ("png", "raw")),
            ("big", data.big, ("png", "raw")),
            ("tomo_j2k", data.tomo_j2k, ("png", "raw")),
        ]
        tomo = data.tomo_j2k
        if data.tomo_htj2k is not None:
            cases.append(("tomo_htj2k", data.tomo_htj2k, ("raw",)))
        return [
            *(
                Job(
                    f"first {kind} {key}",
                    [f"first_{kind}_{key}"],
                    lambda p, path=path, kind=kind, key=key: hs.first_frame(p, path, kind, key),
                )
                for key, path, kinds in cases
                for kind in kinds
            ),
            Job("health while decoding", ["busy_health"], lambda p: hs.busy_health(p, tomo)),
        ]
    if group == "cached":
        keys = [f"cached_{k}_{s}" for s in ("512", "big") for k in ("raw", "png")]
        return [Job("cached frames", keys, lambda p: hs.cached(p, data, quick=args.quick))]
    if group == "sequential":
        # Raw for every syntax (the SPEC target); PNG for the uncompressed file only, where the
        # decode is cheapest and the PNG path's own cost shows (the others would double the time).
        cases = [(s, "raw") for s in bench_data.MULTIFRAME_SYNTAXES] + [("native", "png")]
        return [
            Job(
                f"sequential {kind} {syntax}",
                [f"seq_{kind}_{syntax}"],
                lambda p, syntax=syntax, kind=kind: hs.sequential(
                    p, data.multiframe(syntax), kind, syntax
                ),
            )
            for syntax, kind in cases
        ]
    if group == "browser":

        def session() -> br.Browser:
            if "browser" not in ctx:
                ctx["browser"] = br.Browser()
            return ctx["browser"]

        mf = data.multiframe("native")
        return [
            Job(
                "browser first frame",
                ["browser_first_big"],
                lambda p: br.first_frame(session(), p, data.big),
            ),
            Job("browser cine 24 fps", ["browser_cine"], lambda p: br.cine(session(), p, mf)),
            Job(
                "browser cine 24 fps, JPEG 2000",
                ["browser_cine_j2k"],
                lambda p: br.cine(session(), p, data.multiframe("j2k"), "browser_cine_j2k"),
            ),
            Job("browser W/L drag", ["browser_wl"], lambda p: br.wl_drag(session(), p, data.big)),
        ]
    raise ValueError(group)


def run_job(job: Job, programs: list[Program], runs: int, samples: Samples, peaks: dict) -> None:
    skip: set[str] = set()
    for run in range(runs):
        order = programs if run % 2 == 0 else programs[::-1]
        shown = []
        for program in order:
            if program.name in skip:
                continue
            try:
                measured = job.run(program)
            except NotApplicable as na:
                samples.note(program.name, job.keys, str(na))
                skip.add(program.name)
                shown.append(f"{program.name} {na}")
                continue
            except Exception as exc:
                samples.note(program.name, job.keys, f"error ({type(exc).__name__})")
                skip.add(program.name)
                shown.append(f"{program.name} ERROR {type(exc).__name__}: {exc}")
                continue
            peak = measured.pop("peak_rss", None)
            if peak is not None:
                slot = peaks.setdefault(program.name, {})
                slot[run] = max(slot.get(run, 0.0), peak)
            samples.add(program.name, measured)
            shown.append(
                f"{program.name} " + ", ".join(f"{k}={v:.1f}" for k, v in measured.items())
            )
        _log(f"  {job.name} [{run + 1}/{runs}]: " + "; ".join(shown))


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--reference",
        type=Path,
        help="the original dcmview binary (inside the dcmview-py venv: .../dcmview_py/bin/dcmview)",
    )
    parser.add_argument("--runs", type=int, default=None, help="runs per scenario (default 5)")
    parser.add_argument("--quick", action="store_true", help="3 runs, shorter cached loops")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium scenarios")
    parser.add_argument(
        "--only", default=",".join(GROUPS), help=f"comma-separated groups of {', '.join(GROUPS)}"
    )
    parser.add_argument("--data-dir", type=Path, default=None, help="where to keep the files")
    parser.add_argument("--json", type=Path, default=None, help="also write every sample here")
    args = parser.parse_args(argv)
    runs = args.runs or (3 if args.quick else 5)
    groups = [g.strip() for g in args.only.split(",") if g.strip()]
    unknown = set(groups) - set(GROUPS)
    if unknown:
        parser.error(f"unknown group(s): {', '.join(sorted(unknown))}")
    if args.no_browser and "browser" in groups:
        groups.remove("browser")
    if "browser" in groups and (why := br.available()):
        _log(f"skipping browser scenarios: {why}")
        groups.remove("browser")

    chosen = programs(parser, args.reference, ours())

    data = bench_data.ensure(args.data_dir, log=_log)
    samples, peaks, ctx = Samples(), {}, {}
    started = time.perf_counter()
    try:
        for group in groups:
            _log(f"[{group}]")
            if group == "start":
                for _ in range(runs):
                    samples.add("ours", {"start_floor": hs.floor_ms()})
            for job in jobs_for(group, data, args, ctx):
                run_job(job, chosen, runs, samples, peaks)
    finally:
        if "browser" in ctx:
            ctx["browser"].close()
    for program, per_run in peaks.items():
        for value in per_run.values():
            samples.add(program, {"peak_rss": value})

    print()
    print(render(rows(samples)))
    print()
    print(
        f"Medians of {runs} runs, programs alternated; {os.cpu_count()} CPUs, "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"load average at the end {os.getloadavg()[0]:.2f}; "
        f"took {time.perf_counter() - started:.0f} s."
    )
    if args.json:
        args.json.write_text(json.dumps(samples.as_json(), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
