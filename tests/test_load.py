"""Load and faults: caches within budget, health during 64 concurrent decodes, clients that leave.

The core cache test runs by default. The server-level runs are ``slow`` (``.ci/run`` runs them):
they build large files and measure the real process (RSS from /proc, open descriptors).
"""

from __future__ import annotations

import os
import random
import socket
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from pydicom.uid import JPEG2000Lossless

from dcmview.core.render import WindowRequest
from dcmview.core.session import Session

from . import dicomgen as gen
from .harness import DcmviewProcess, rss_bytes

MiB = 1024 * 1024


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _in_threads(count: int, work: Callable[[int], None]) -> None:
    threads = [threading.Thread(target=work, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)


# -- caches (core, default run) -----------------------------------------------------------------
def test_caches_stay_within_budget_reading_every_frame_twice_in_random_order(
    tmp_path: Path,
) -> None:
    written = gen.write_multiframe(tmp_path, frames=32, rows=512, columns=512)  # 16 MiB of pixels
    budget = 3 * MiB  # about three raw frames and a few PNGs
    study = Session([str(tmp_path)], cache_budget=budget)
    study.scan()
    caches = (study.display_cache, study.raw_cache)
    assert sum(c.budget for c in caches) == budget
    requests = [(f, kind) for f in range(32) for kind in ("raw", "png", "full") for _ in range(2)]
    random.Random(3).shuffle(requests)
    peaks = [0, 0]
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.001):
            for n, cache in enumerate(caches):
                peaks[n] = max(peaks[n], cache.used)

    def work(worker: int) -> None:
        for frame, kind in requests[worker::4]:
            if kind == "raw":
                (body, _), _ = study.raw(0, frame)
                expected = written.pixels[frame].astype("<u2").tobytes()
                assert body == expected, f"raw frame {frame} came back wrong"
            else:
                mode = "full_dynamic" if kind == "full" else "default"
                (body, _), _ = study.display(0, frame, WindowRequest(mode=mode))
                assert body.startswith(b"\x89PNG")
            for cache in caches:
                assert cache.used <= cache.budget

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        _in_threads(4, work)
    finally:
        done.set()
        watcher.join(10)
    assert all(peak <= cache.budget for peak, cache in zip(peaks, caches, strict=True))
    assert all(len(cache) > 0 for cache in caches)


# -- server under load (slow) -------------------------------------------------------------------
@pytest.fixture(scope="module")
def cine_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cine64")
    gen.write_multiframe(
        root, frames=64, rows=512, columns=512, transfer_syntax=JPEG2000Lossless, name="cine.dcm"
    )
    return root


def _frames_under_watch(proc: DcmviewProcess, query: str) -> tuple[list[int], list[float]]:
    """64 concurrent requests for 64 different frames while /api/health is timed in a loop."""
    statuses: list[int] = []
    latencies: list[float] = []
    running = threading.Event()
    running.set()

    def fetch(frame: int) -> None:
        statuses.append(proc.get(f"api/file/0/frame/{frame}{query}").status)

    def poll() -> None:
        while running.is_set():
            start = time.perf_counter()
            reply = proc.get("api/health", token=False)
            latencies.append(time.perf_counter() - start)
            assert reply.status == 200
            time.sleep(0.02)

    poller = threading.Thread(target=poll)
    poller.start()
    _in_threads(64, fetch)
    running.clear()
    poller.join(30)
    return statuses, latencies


@pytest.mark.slow
@pytest.mark.parametrize("query", ["", "/raw"], ids=["png", "raw"])
def test_health_answers_during_64_concurrent_frame_requests(
    cine_folder: Path, tmp_path: Path, query: str
) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    with DcmviewProcess("--port", "0", str(cine_folder), env=env) as proc:
        proc.wait_scan()
        statuses, latencies = _frames_under_watch(proc, query)
        assert statuses.count(200) == 64
        # Health kept answering (200, checked by the poller) all through the load; how fast it
        # answers is measured by bench/health_under_load.py (speed lives in bench/).
        assert len(latencies) >= 10, "the load ended before health could be sampled"
        assert "Traceback" not in proc.output


def _abort(port: int, path: str, token: str, keep: int, reset: bool) -> None:
    """Ask for ``path``, read ``keep`` bytes of the answer at most, then hang up."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    request = f"GET /{path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
    sock.sendall(request.encode() + b"\r\n")
    got = 0
    while got < keep:
        piece = sock.recv(min(65536, keep - got))
        if not piece:
            break
        got += len(piece)
    if reset:  # an abortive close (RST) rather than a FIN
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _settled_rss(proc: DcmviewProcess) -> int:
    """RSS once in-flight work has drained: health answers and two readings agree."""
    for _ in range(50):
        assert proc.get("api/health").status == 200
        first = rss_bytes(proc.proc.pid)
        time.sleep(0.2)
        second = rss_bytes(proc.proc.pid)
        if abs(second - first) < MiB:
            return second
    return rss_bytes(proc.proc.pid)


@pytest.mark.slow
def test_clients_that_hang_up_mid_download_leave_no_errors_and_no_leak(tmp_path: Path) -> None:
    folder = tmp_path / "mammo"
    gen.write_mammography(folder)  # a 15 MB raw frame and a 2 MB PNG
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    with DcmviewProcess("--port", "0", "--cache-budget", "64MiB", str(folder), env=env) as proc:
        proc.wait_scan()
        token, pid = proc.token or "", proc.proc.pid
        raw, png = "api/file/0/frame/0/raw", "api/file/0/frame/0"
        # Gone before the answer exists: the decode and windowing finish for nobody.
        _in_threads(8, lambda n: _abort(proc.port, f"{png}?wc={1000 + n}&ww=500", token, 0, n % 2))
        assert proc.get(raw).status == 200 and proc.get(png).status == 200
        baseline, fds = _settled_rss(proc), open_fds(pid)
        peak = baseline
        for _ in range(3):
            for batch in range(10):
                _in_threads(
                    4,
                    lambda n, b=batch: _abort(
                        proc.port, raw if n < 2 else png, token, 64 * 1024, (b + n) % 2 == 0
                    ),
                )
            peak = max(peak, _settled_rss(proc))
        # 120 hang-ups in the middle of 15 MB and 2 MB answers: anything they kept would show.
        assert peak - baseline < 80 * MiB, f"RSS grew {(peak - baseline) / MiB:.0f} MiB"
        assert open_fds(pid) <= fds + 2
        assert proc.get(raw).status == 200
        output = proc.output
        for marker in ("Traceback", "Uncaught exception", "ERROR", "Exception in callback"):
            assert marker not in output, output[-2000:]
        assert not any(f" 500 {verb} " in output for verb in ("GET", "HEAD"))


@pytest.mark.slow
def test_server_memory_follows_the_cache_budget_over_a_large_file(tmp_path: Path) -> None:
    folder = tmp_path / "large"
    folder.mkdir()
    frames = np.stack(
        [np.roll(gen.phantom(1024, 1024, bits_stored=12), f * 7, axis=1) for f in range(64)]
    )
    gen.write_image(folder / "large.dcm", frames, bits_stored=12, window=(2048, 4096))
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    with DcmviewProcess("--port", "0", "--cache-budget", "16MiB", str(folder), env=env) as proc:
        proc.wait_scan()
        baseline = _settled_rss(proc)
        order = [f for f in range(64) for _ in range(2)]
        random.Random(5).shuffle(order)
        peak = 0

        def work(worker: int) -> None:
            nonlocal peak
            for frame in order[worker::4]:
                assert proc.get(f"api/file/0/frame/{frame}/raw").status == 200
                assert proc.get(f"api/file/0/frame/{frame}").status == 200
                peak = max(peak, rss_bytes(proc.proc.pid))

        _in_threads(4, work)
        growth = max(peak, _settled_rss(proc)) - baseline
        # 128 MiB of pixels and ~60 MiB of PNGs went through; an unbounded cache would keep
        # them all. The budget (16 MiB) plus decode buffers in flight must stay well below.
        assert growth < 100 * MiB, f"RSS grew {growth / MiB:.0f} MiB"
        assert "Traceback" not in proc.output
