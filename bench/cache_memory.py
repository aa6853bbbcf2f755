"""What a server's memory settles at under a cache budget, and where it goes.

Serves a folder (generated once: 200 native, 100 RLE and 60 JPEG-LS frames of 512², and 100 CT
slices of 256²), asks every frame as ``/raw`` and as a display PNG from two clients at once,
waits, and prints the resident memory (``VmRSS``) of the server process and of each worker
process: after the scan, and settled after the frames. Run it with several budgets:

    python bench/cache_memory.py                          # --cache-budget 64MiB and the default
    python bench/cache_memory.py --budgets 64MiB,1GiB --root /other/checkout

The table goes to stdout (Markdown); README's memory section quotes it.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.servers import REPO, Client, Program, Server, _descendants, _status, ours

MIB = 1024 * 1024


def make_folder(folder: Path) -> Path:
    """The files served (~155 MB), written once."""
    if (folder / "done").exists():
        return folder
    from pydicom.uid import JPEGLSLossless, RLELossless

    from tests import dicomgen as gen

    folder.mkdir(parents=True, exist_ok=True)
    gen.write_multiframe(folder, frames=200, name="native.dcm")
    gen.write_multiframe(folder, frames=100, name="rle.dcm", transfer_syntax=RLELossless)
    gen.write_multiframe(folder, frames=60, name="jls.dcm", transfer_syntax=JPEGLSLossless)
    gen.write_ct_series(folder / "ct", count=100, size=256)
    (folder / "done").write_text("")
    return folder


def _rss(pid: int) -> int:
    return _status(pid).get("VmRSS", 0)


def _memory(server: Server) -> tuple[int, list[int]]:
    """(server VmRSS, [each worker's VmRSS])."""
    return _rss(server.proc.pid), [_rss(pid) for pid in _descendants(server.proc.pid)]


def _fetch_all(server: Server, paths: list[str]) -> None:
    client = Client(server.port)
    try:
        for path in paths:
            reply = client.get(path)
            if reply.status != 200:
                raise RuntimeError(f"{path}: {reply.status} {reply.body[:200]!r}")
    finally:
        client.close()


def run(program: Program, folder: Path, budget: str | None) -> dict[str, float]:
    extra = ("--cache-budget", budget) if budget else ()
    chosen = Program(program.name, (*program.argv, *extra), program.env, program.cwd)
    with Server(chosen, [folder]) as server:
        server.wait_loaded()
        files = server.client.json("/api/files")["files"]
        time.sleep(1)
        start, _ = _memory(server)
        paths = []
        for f in files:
            for frame in range(f["frame_count"]):
                base = f"/api/file/{f['index']}/frame/{frame}"
                paths += [base + "/raw", base]
        halves = [paths[0::2], paths[1::2]]
        threads = [threading.Thread(target=_fetch_all, args=(server, h)) for h in halves]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        time.sleep(3)
        main, workers = _memory(server)
        return {
            "start": start / MIB,
            "server": main / MIB,
            "workers": sum(workers) / MIB,
            "worker_count": len(workers),
            "requests": len(paths),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=REPO, help="the dcmview checkout to run")
    parser.add_argument("--budgets", default="64MiB,default")
    parser.add_argument(
        "--data-dir", type=Path, default=Path.home() / ".cache" / "dcmview-bench" / "cache-memory"
    )
    args = parser.parse_args()
    folder = make_folder(args.data_dir)
    print("| --cache-budget | requests | server after scan | server settled | workers settled |")
    print("|---|---|---|---|---|")
    for budget in args.budgets.split(","):
        chosen = None if budget == "default" else budget
        m = run(ours(root=args.root), folder, chosen)
        print(
            f"| {budget} | {m['requests']:.0f} | {m['start']:.0f} MiB | {m['server']:.0f} MiB "
            f"| {m['workers']:.0f} MiB ({m['worker_count']:.0f} processes) |",
            flush=True,
        )


if __name__ == "__main__":
    main()
