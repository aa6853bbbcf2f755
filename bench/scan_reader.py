"""Per-file cost of discovery's ``read_record``: the scan's own header reader against pydicom.

Issue 14: every file of the bench's 500 CT slices and of the 10,000-file folder of
``bench/scale.py`` is read by ``read_record`` two ways in each round — as shipped (the plain
reader of ``dcmview/core/plain_header.py``, one for the folder as the scan has, with the
records of a series made from its first; the pydicom-based readers when it hands a file over)
and with pydicom's ``dcmread`` only — and the header alone both ways (the plain walk against
``dcmread(stop_before_pixels=True)``). The ways alternate within a round
(which goes first alternates between rounds), so a loaded machine slows both alike; the table
gives the medians over the rounds in ms per file. One process, warm page cache: this is the
parse cost, not the disk's. ``python bench/compare.py --only scan`` measures whole scans.

    python bench/scan_reader.py [--runs 5] [--only 500|10k]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import pydicom  # noqa: E402

from bench import data as bench_data  # noqa: E402
from bench import scale_data  # noqa: E402
from dcmview.core import discovery, header_reader  # noqa: E402
from dcmview.core.plain_header import PlainReader  # noqa: E402

Way = Callable[[list[str]], None]


def _records_fast(paths: list[str]) -> None:
    reader = PlainReader()
    for path in paths:
        discovery.read_record(path, reader)


def _records_pydicom(paths: list[str]) -> None:
    shipped = header_reader.read_header
    header_reader.read_header = lambda fp: None  # type: ignore[assignment]  # hand it over
    try:
        for path in paths:
            discovery._read_with_pydicom(path)
    finally:
        header_reader.read_header = shipped


def _header_fast(paths: list[str]) -> None:
    reader = PlainReader()
    for path in paths:
        reader.read(path)


def _header_pydicom(paths: list[str]) -> None:
    for path in paths:
        with open(path, "rb") as fp:
            pydicom.dcmread(fp, stop_before_pixels=True)


PAIRS: list[tuple[str, Way, Way]] = [
    ("read_record", _records_fast, _records_pydicom),
    ("header only", _header_fast, _header_pydicom),
]


def measure(paths: list[str], runs: int) -> list[tuple[str, float, float]]:
    """``(what, fast ms/file, pydicom ms/file)`` medians over ``runs`` alternating rounds."""
    samples: dict[tuple[str, str], list[float]] = {}
    for way in (_records_fast, _records_pydicom):  # warm the page cache and imports
        way(paths)
    for run in range(runs):
        for what, fast, slow in PAIRS:
            order = [("fast", fast), ("pydicom", slow)]
            for name, way in order if run % 2 == 0 else order[::-1]:
                started = time.perf_counter()
                way(paths)
                elapsed = (time.perf_counter() - started) * 1000 / len(paths)
                samples.setdefault((what, name), []).append(elapsed)
    return [
        (
            what,
            statistics.median(samples[(what, "fast")]),
            statistics.median(samples[(what, "pydicom")]),
        )
        for what, _, _ in PAIRS
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", choices=("500", "10k"), default=None)
    args = parser.parse_args()
    sets: list[tuple[str, Path]] = []
    if args.only in (None, "500"):
        sets.append(("500 CT files", bench_data.ensure(log=_log).ct_dir))
    if args.only in (None, "10k"):
        sets.append(("10,000 files", scale_data.ensure(log=_log)))
    warnings.simplefilter("ignore")
    print("| Files | What | dcmview's reader (ms/file) | pydicom (ms/file) | ratio | runs |")
    print("|---|---|---|---|---|---|")
    for label, folder in sets:
        paths = sorted(str(p) for p in folder.rglob("*") if p.is_file())
        _log(f"{label}: {len(paths)} files, {args.runs} runs")
        for what, fast, slow in measure(paths, args.runs):
            print(
                f"| {label} | {what} | {fast:.3f} | {slow:.3f} | {slow / fast:.2f}× | {args.runs} |"
            )


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
