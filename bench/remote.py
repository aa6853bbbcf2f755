"""Data where it lives (SPEC §11): a 1,000-file CT series listed and shown from S3 (moto's
server on loopback), from DICOMweb (Orthanc with its plugin) and from the local folder.

    python bench/remote.py [--files 1000] [--size 512] [--runs 3]

For each source, medians over ``--runs`` (every measurement in a fresh process):

- list: time to a complete list of every header (``discovery.scan`` of the one input, from the
  call to its return: the listing, the header reads and their parsing);
- bytes/header: bytes the source sent for the list, per file (S3: response bodies counted at
  the server; DICOMweb: response bodies at the client; local: bytes read, ``/proc/self/io``);
- first frame: ``dcmview --no-browser URL`` from launch to the first frame's PNG on
  ``/api/file/0/frame/0`` (start, scan, the frame's read and decode), and that request alone.

It prints figures; nothing in ``tests/`` is timed. Needs moto[server], s3fs, dicomweb-client
and Orthanc (Debian ``orthanc orthanc-dicomweb``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests import dicomgen  # noqa: E402
from tests.harness import DcmviewProcess  # noqa: E402
from tests.remote_servers import Orthanc, S3Server  # noqa: E402

# Run in a fresh process: the scan of one input, timed; what it read, as the process counts it.
_LIST = """
import json, sys, time, warnings
warnings.simplefilter("ignore")
sent = [0]
import requests.adapters
_send = requests.adapters.HTTPAdapter.send
def send(self, *args, **kwargs):
    answer = _send(self, *args, **kwargs)
    sent[0] += len(answer.content)
    return answer
requests.adapters.HTTPAdapter.send = send
from dcmview.core import discovery, sources
from dcmview.core.sources import objects, dicomweb  # imported before the clock starts
import s3fs
def rchar():
    with open("/proc/self/io") as fp:
        return int(next(l for l in fp if l.startswith("rchar")).split()[1])
before = rchar()
t = time.perf_counter()
records, entries, scanned = discovery.scan([sys.argv[1]], anon=True)
took = time.perf_counter() - t
print(json.dumps({"seconds": took, "files": len(records), "skipped": len(entries),
                  "rchar": rchar() - before, "http": sent[0]}))
"""


def _list_once(url: str, env: dict[str, str]) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", _LIST, url],
        capture_output=True,
        text=True,
        env={**os.environ, **env, "PYTHONPATH": str(REPO)},
        timeout=600,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _first_frame(url: str, env: dict[str, str]) -> tuple[float, float]:
    """Seconds from launch to the first frame's PNG, and that request alone."""
    start = time.perf_counter()
    with DcmviewProcess("--anon", url, env=env) if "://" in url else DcmviewProcess(url) as server:
        server.wait_scan(timeout=600)
        asked = time.perf_counter()
        answer = server.get("api/file/0/frame/0")
        end = time.perf_counter()
        assert answer.status == 200, answer.body[:200]
    return end - start, end - asked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--size", type=int, default=512, help="rows and columns of each slice")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="dcmview-bench-remote-"))
    print(f"writing {args.files} CT slices of {args.size}² ...", file=sys.stderr)
    written = dicomgen.write_tiny_series(folder, count=args.files, size=args.size)
    paths = [w.path for w in written]
    study = str(__import__("pydicom").dcmread(paths[0], stop_before_pixels=True).StudyInstanceUID)
    file_size = os.path.getsize(paths[0])

    print("starting moto's S3 and Orthanc, uploading ...", file=sys.stderr)
    s3 = S3Server()
    s3.upload("bench", paths, "ct/", public=True)
    orthanc = Orthanc()
    t = time.perf_counter()
    orthanc.upload(paths)
    print(f"  Orthanc upload: {time.perf_counter() - t:.1f} s", file=sys.stderr)

    sources = {
        "local folder": (str(folder), {}),
        "S3 (moto)": ("s3://bench/ct/", s3.env()),
        "DICOMweb (Orthanc)": (orthanc.study_url(study), {}),
    }
    rows = []
    try:
        for name, (url, env) in sources.items():
            lists, per_header, launches, requests = [], [], [], []
            for run in range(args.runs):
                print(f"  {name}: run {run + 1}/{args.runs}", file=sys.stderr)
                s3.counter.reset()
                got = _list_once(url, env)
                assert got["files"] == args.files, got
                lists.append(got["seconds"])
                if name.startswith("S3"):
                    read = s3.counter.sent
                elif name.startswith("DICOMweb"):
                    read = got["http"]
                else:
                    read = got["rchar"]
                per_header.append(read / args.files)
                launch, request = _first_frame(url, env)
                launches.append(launch)
                requests.append(request)
            rows.append(
                (
                    name,
                    statistics.median(lists),
                    statistics.median(per_header),
                    statistics.median(launches),
                    statistics.median(requests),
                )
            )
    finally:
        s3.stop()
        orthanc.stop()
        shutil.rmtree(folder, ignore_errors=True)

    print(
        f"\n{args.files} files of {args.size}² 16-bit CT ({file_size / 1024:.0f} KiB each), "
        f"medians of {args.runs} runs, loopback servers, {os.cpu_count()} cores\n"
    )
    print("| source | list of all headers | bytes read per header | first frame from launch "
          "| first frame request |")  # fmt: skip
    print("|---|---|---|---|---|")
    for name, listed, per, launch, request in rows:
        print(
            f"| {name} | {listed:.2f} s | {per / 1024:.1f} KiB | {launch:.2f} s "
            f"| {request * 1000:.0f} ms |"
        )


if __name__ == "__main__":
    main()
