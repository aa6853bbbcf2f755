"""HTTP scenarios: each starts a fresh server of one program, measures, stops it.

Every function takes the program and the data set and returns ``{metric_key: value}`` (see
``results.METRICS``); a cell that cannot be measured raises :class:`NotApplicable`. Frame
latencies are timed around one request on an open keep-alive connection, after the server
finished its scan and answered ``/api/files`` and ``/api/file/i/info`` (what the viewer asks
before its first frame).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from .data import MULTIFRAME_FRAMES, BenchData
from .results import NotApplicable
from .servers import Client, Program, Server

MB = 2**20


def floor_ms() -> float:
    """The floor of SPEC §8: a bare ``python -c "import numpy, tornado.web"``, spawn to exit."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import numpy, tornado.web"], check=True)
    return (time.perf_counter() - started) * 1000


def start(program: Program, data: BenchData) -> dict[str, float]:
    with Server(program, [data.single]) as server:
        return {"start": server.wait_health() * 1000}


def scan(program: Program, data: BenchData) -> dict[str, float]:
    """Spawn → the ``loaded`` line for 500 CT files (and the part of it after the first health
    answer, which leaves out the interpreter's start); then the idle RSS one second later."""
    with Server(program, [data.ct_dir]) as server:
        up = server.wait_health()
        seconds = server.wait_loaded()
        count = len(server.client.json("/api/files")["files"])
        if count != 500:
            raise RuntimeError(f"{program.name} listed {count} of 500 files")
        time.sleep(1.0)
        rss, _ = server.memory()
    return {"scan": seconds * 1000, "scan_after_up": (seconds - up) * 1000, "idle_rss": rss / MB}


def _frame_path(index: int, frame: int, kind: str) -> str:
    return f"/api/file/{index}/frame/{frame}" + ("/raw" if kind == "raw" else "")


def _check(reply, program: Program) -> None:
    if reply.status == 200:
        return
    if reply.status == 422:
        who = "original refuses" if program.name == "original" else "refused"
        raise NotApplicable(f"n/a ({who}: 422)")
    raise RuntimeError(f"{program.name}: HTTP {reply.status} {reply.body[:200]!r}")


def _open(server: Server, path: Path) -> int:
    server.wait_loaded()
    index = server.file_index(path)
    server.client.json(f"/api/file/{index}/info")
    return index


def first_frame(program: Program, path: Path, kind: str, key: str) -> dict[str, float]:
    """One cold frame request on a fresh server: ``first_<kind>_<key>`` ms, plus peak RSS."""
    with Server(program, [path]) as server:
        index = _open(server, path)
        started = time.perf_counter()
        reply = server.client.get(_frame_path(index, 0, kind))
        elapsed = time.perf_counter() - started
        _check(reply, program)
        _, hwm = server.memory()
    return {f"first_{kind}_{key}": elapsed * 1000, "peak_rss": hwm / MB}


def _rate(client: Client, url: str, count: int, max_seconds: float) -> tuple[float, str]:
    """Requests per second repeating `url`; also the X-Cache header of the last answer."""
    done, started, cache = 0, time.perf_counter(), ""
    while done < count and time.perf_counter() - started < max_seconds:
        reply = client.get(url)
        if reply.status != 200:
            raise RuntimeError(f"{url}: HTTP {reply.status}")
        cache = reply.headers.get("x-cache", "")
        done += 1
    return done / (time.perf_counter() - started), cache


def cached(program: Program, data: BenchData, quick: bool = False) -> dict[str, float]:
    """The same frame requested again and again once it is in the server's cache."""
    mf, big = data.multiframe("native"), data.big
    out: dict[str, float] = {}
    with Server(program, [mf, big]) as server:
        server.wait_loaded()
        for key, path, count in (("512", mf, 300), ("big", big, 40)):
            index = server.file_index(path)
            for kind in ("raw", "png"):
                url = _frame_path(index, 0, kind)
                _check(server.client.get(url), program)
                rate, cache = _rate(server.client, url, count // (2 if quick else 1), 1.0)
                if cache and cache.upper() != "HIT":
                    print(f"  note: {program.name} {url} answered X-Cache {cache}", file=sys.stderr)
                out[f"cached_{kind}_{key}"] = rate
        _, hwm = server.memory()
    out["peak_rss"] = hwm / MB
    return out


def sequential(program: Program, path: Path, kind: str, syntax: str) -> dict[str, float]:
    """Frames 0..99 of a 100-frame 512² file, in order, on a fresh server (all cache misses)."""
    with Server(program, [path]) as server:
        index = _open(server, path)
        started = time.perf_counter()
        for frame in range(MULTIFRAME_FRAMES):
            _check(server.client.get(_frame_path(index, frame, kind)), program)
        elapsed = time.perf_counter() - started
        _, hwm = server.memory()
    return {f"seq_{kind}_{syntax}": MULTIFRAME_FRAMES / elapsed, "peak_rss": hwm / MB}


def busy_health(program: Program, path: Path) -> dict[str, float]:
    """How long ``/api/health`` takes while a big compressed frame decodes: frame 0 is shown
    first (as a viewer would), then frame 10 is asked for on one connection while health is
    asked for again and again on another; the slowest health answer counts."""
    with Server(program, [path]) as server:
        index = _open(server, path)
        _check(server.client.get(_frame_path(index, 0, "raw")), program)
        time.sleep(3.0)  # settled: whatever the first frame started is done
        done = threading.Event()
        replies: list = []

        def fetch() -> None:
            replies.append(Client(server.port).get(_frame_path(index, 10, "raw")))
            done.set()

        other = Client(server.port)
        other.get("/api/health")
        threading.Thread(target=fetch, daemon=True).start()
        slowest = 0.0
        while not done.is_set():
            started = time.perf_counter()
            other.get("/api/health")
            slowest = max(slowest, time.perf_counter() - started)
            time.sleep(0.005)
        _check(replies[0], program)
    return {"busy_health": slowest * 1000}
