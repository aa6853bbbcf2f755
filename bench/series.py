"""What series and stacks (SPEC §9) cost on the 10,000-file folder of ``bench/scale.py``.

Prints, as medians of a few runs:
- reading 2,000 headers in this process (``discovery.read_chunk``: what geometry adds per file)
  and the memory the 2,000 records hold;
- grouping the 10,000 records into series and stacks and encoding the JSON (done once, in the
  scan's thread, when the scan completes);
- ``GET /api/series`` through the router (in this process) and over HTTP from a real server.

    python bench/series.py [--runs 5]

It prints figures; nothing in ``tests/`` is timed.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import scale_data  # noqa: E402
from bench.servers import Server, ours  # noqa: E402
from dcmview.api import Api, ApiRequest  # noqa: E402
from dcmview.core.discovery import iter_candidate_paths, read_chunk  # noqa: E402
from dcmview.core.series import series_list  # noqa: E402
from dcmview.core.session import Session  # noqa: E402

HEADER_FILES = 2000


def _median_ms(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def headers(folder: Path, runs: int) -> None:
    """Per-file header reading and record memory over the first 2,000 files."""
    found = iter_candidate_paths([str(folder)], True)
    candidates = [(path, problem) for path, problem, _ in found][:HEADER_FILES]
    read_chunk(candidates[:50], [])  # imports and caches warm
    ms = _median_ms(runs, lambda: read_chunk(candidates, []))
    gc.collect()
    tracemalloc.start()
    kept = read_chunk(candidates, [])
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"read {len(kept)} headers: {ms:.0f} ms ({ms / len(kept) * 1000:.0f} us/file), "
        f"records hold {size / len(kept):.0f} B/file"
    )


def series(folder: Path, runs: int) -> None:
    """Grouping and serving the series of the whole folder."""
    study = Session([str(folder)])
    started = time.perf_counter()
    study.scan()
    scan_s = time.perf_counter() - started
    records = study.files
    build = _median_ms(runs, lambda: json.dumps(series_list(records), separators=(",", ":")))
    api = Api(study)
    request = ApiRequest("GET", "api/series")
    body = api.handle(request).body
    routed = _median_ms(max(runs, 20), lambda: api.handle(request))
    listed = json.loads(body)["series"]
    stacks = sum(len(s["stacks"]) for s in listed)
    print(
        f"{len(records)} files (scan {scan_s:.1f} s): {len(listed)} series, {stacks} stacks; "
        f"grouping + JSON once at scan end {build:.0f} ms; "
        f"GET /api/series via the router {routed:.2f} ms ({len(body) / 1e6:.1f} MB)"
    )
    with Server(ours(), [folder]) as server:
        server.wait_loaded()
        reply = server.client.get("/api/series")
        assert reply.status == 200 and len(reply.body) == len(body), reply.status
        http_ms = _median_ms(max(runs, 20), lambda: server.client.get("/api/series"))
    print(f"GET /api/series over HTTP (keep-alive, loopback): {http_ms:.1f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    folder = scale_data.ensure()
    headers(folder, args.runs)
    series(folder, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
