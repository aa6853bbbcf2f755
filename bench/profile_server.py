"""Profile our server with py-spy while it serves one benchmark workload; print the top costs.

    pip install py-spy
    python bench/profile_server.py seq_png          # see WORKLOADS for the names
    python bench/profile_server.py cached_raw_big --top 30 --keep /tmp/stacks.txt

Samples every thread of ``python -m dcmview`` (500 Hz by default) from just before the
workload to just after it, drops idle samples (threads waiting in select/epoll/queues) and
prints the functions with the most samples, by self time and inclusive time.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import data as bench_data
from bench.servers import Server, ours

IDLE_LEAVES = ("select (", "poll (", "_worker (concurrent", "wait (threading.py", "get (queue.py")


def _workload(path_of: Callable[[bench_data.BenchData], Path], suffix: str, frames: range):
    def run(server: Server, data: bench_data.BenchData) -> None:
        path = path_of(data)
        index = server.file_index(path)
        server.client.get(f"/api/file/{index}/info")
        for frame in frames:
            reply = server.client.get(f"/api/file/{index}/frame/{frame}{suffix}")
            if reply.status != 200:
                raise SystemExit(f"HTTP {reply.status}: {reply.body[:200]!r}")

    return path_of, run


def _mf(syntax: str) -> Callable[[bench_data.BenchData], Path]:
    return lambda d: d.multiframe(syntax)


WORKLOADS = {
    "seq_raw": _workload(_mf("native"), "/raw", range(100)),
    "seq_png": _workload(_mf("native"), "", range(100)),
    "seq_jpegls": _workload(_mf("jpegls"), "/raw", range(100)),
    "seq_rle": _workload(_mf("rle"), "/raw", range(100)),
    "seq_j2k": _workload(_mf("j2k"), "/raw", range(50)),
    "cached_raw": _workload(_mf("native"), "/raw", [0] * 1500),
    "cached_png": _workload(_mf("native"), "", [0] * 1500),
    "cached_raw_big": _workload(lambda d: d.big, "/raw", [0] * 100),
    "big_png": _workload(lambda d: d.big, "", range(2)),
    "tomo_j2k": _workload(lambda d: d.tomo_j2k, "/raw", range(3)),
}


def summarise(stacks: Path, top: int) -> str:
    """Self and inclusive sample shares from py-spy's raw (collapsed) output."""
    own: collections.Counter[str] = collections.Counter()
    total_in: collections.Counter[str] = collections.Counter()
    busy = 0
    for line in stacks.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if any(mark in frames[-1] for mark in IDLE_LEAVES):
            continue
        n = int(count)
        busy += n
        own[frames[-1]] += n
        for frame in set(frames):
            total_in[frame] += n
    if not busy:
        return "no busy samples"
    out = [f"busy samples: {busy}", "", "self:"]
    out += [f"  {n * 100 / busy:5.1f}%  {f}" for f, n in own.most_common(top)]
    out += ["", "inclusive:"]
    out += [f"  {n * 100 / busy:5.1f}%  {f}" for f, n in total_in.most_common(top)]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument("--rate", type=int, default=500, help="samples per second")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="also keep py-spy's collapsed stacks here")
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    if shutil.which("py-spy") is None:
        parser.error("py-spy is not installed (pip install py-spy)")
    data = bench_data.ensure(args.data_dir, log=lambda m: print(m, file=sys.stderr))
    path_of, run = WORKLOADS[args.workload]
    with tempfile.TemporaryDirectory() as tmp, Server(ours(), [path_of(data)]) as server:
        server.wait_loaded()
        stacks = args.keep or Path(tmp) / "stacks.txt"
        command = ["py-spy", "record", "-r", str(args.rate), "--threads", "-f", "raw"]
        spy = subprocess.Popen(
            [*command, "-o", str(stacks), "-p", str(server.proc.pid)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)  # py-spy attaches
        started = time.perf_counter()
        run(server, data)
        elapsed = time.perf_counter() - started
        time.sleep(0.2)
        spy.send_signal(signal.SIGINT)
        spy.wait(30)
        print(f"{args.workload}: {elapsed:.2f} s under the profiler")
        print(summarise(stacks, args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
