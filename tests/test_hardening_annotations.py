"""Never losing or mangling an edit, through the real server and command line (SPEC §5).

The store's own rules are proven in ``test_annotations*.py``; here the same promises are checked
end to end: a rejected batch changes nothing, concurrent HTTP PUTs never mix, hostile CSV text
survives two processes, hostile CSV input stops start-up naming the line, and a recovery file is
either whole or absent.
"""

from __future__ import annotations

import csv
import io
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from dcmview.core import recovery
from dcmview.core.annotations import AnnotationStore, ImageShape, LoadedFile
from dcmview.core.embed_csv import read_csv

from . import dicomgen as gen
from .harness import DcmviewProcess, run_cli

HOSTILE_CELLS = [
    'she said "no", twice',
    "a,b,,c",
    "two\nlines\r\nand CRLF",
    '=HYPERLINK("http://evil.example","x")',
    "+SUM(1,2)",
    "-2+3",
    "@cmd",
    "\ttab first",
    "\rCR first",
    "'=looks escaped",
    "日本語 · ünïcødé 🙂 ﻿",
    "",
    "  spaced  ",
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rois")
    gen.write_ct_series(root, count=2)
    gen.write_multiframe(root, frames=3, rows=32, columns=32, study_date="20991231")
    return root


@pytest.fixture(scope="module")
def server(folder: Path, tmp_path_factory: pytest.TempPathFactory):
    cache = {"XDG_CACHE_HOME": str(tmp_path_factory.mktemp("cache"))}
    with DcmviewProcess("--port", "0", str(folder), env=cache) as proc:
        proc.wait_scan()
        yield proc


@pytest.fixture(scope="module")
def cine(server: DcmviewProcess) -> int:
    files = server.get("api/files").json()["files"]
    return next(f["index"] for f in files if f["path"].endswith("multiframe.dcm"))


def _canonical(body: dict) -> dict:
    coords = [
        [min(b[0], b[2]), min(b[1], b[3]), max(b[0], b[2]), max(b[1], b[3])]
        for b in body["roi_coords"]
    ]
    frames = body.get("roi_frames") or [[] for _ in coords]
    return {
        "num_roi": len(coords),
        "roi_coords": coords,
        "roi_frames": [sorted(set(f)) for f in frames],
    }


# -- a rejected batch changes nothing -----------------------------------------------------------
GOOD = [[0, 0, 8, 8], [4, 4, 12, 12], [1, 2, 3, 4], [10, 10, 20, 20]]


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({"roi_coords": [*GOOD, [0, 0, 33, 8]]}, "ROI 5"),
        ({"roi_coords": GOOD, "roi_frames": [[0], [1], [2], [3]]}, "ROI 4"),
        ({"roi_coords": [*GOOD[:2], [5, 5, 5, 9], *GOOD[2:]]}, "ROI 3"),
        ({"roi_coords": [*GOOD[:3], [1, 1, 2.5, 4]]}, "ROI 4"),
        ({"roi_coords": [*GOOD[:3], [1, 1, 2]]}, "ROI 4"),
        ({"num_roi": 3, "roi_coords": GOOD}, "num_roi"),
        ({"roi_coords": GOOD, "roi_frames": [[0], [1]]}, "roi_frames"),
    ],
    ids=["outside", "frame", "empty-box", "fraction", "arity", "count", "frame-lists"],
)
def test_a_batch_with_one_invalid_roi_changes_nothing(
    server: DcmviewProcess, cine: int, body: dict, names: str
) -> None:
    path = f"api/file/{cine}/annotations"
    start = server.put_json(path, {"roi_coords": [[2, 2, 6, 6], [7, 7, 9, 9]]})
    assert start.status == 200
    export_before = server.get("api/annotations/export.csv").body
    reply = server.put_json(path, body, headers={"If-Match": start.header("ETag")})
    assert reply.status == 400
    error = reply.json()
    assert error["code"] == "invalid_annotation" and names in error["error"]
    after = server.get(path)
    assert after.json() == start.json() and after.header("ETag") == start.header("ETag")
    assert server.get("api/annotations/export.csv").body == export_before


# -- concurrency ----------------------------------------------------------------------------------
def _run_threads(count: int, work: Callable[[int], None]) -> None:
    barrier = threading.Barrier(count)

    def run(n: int) -> None:
        barrier.wait()
        work(n)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)


def test_concurrent_puts_over_http_never_interleave(server: DcmviewProcess) -> None:
    path = "api/file/0/annotations"
    bodies = [
        {"roi_coords": [[n, k, n + 1 + k, k + 2] for k in range(40)], "roi_frames": []}
        for n in range(16)
    ]
    canonical = [_canonical(b) for b in bodies]
    seen: list[tuple[int, dict, str]] = []
    reads: list[dict] = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(n: int) -> None:
        for _ in range(3):
            reply = server.put_json(path, bodies[n])
            with lock:
                seen.append((n, reply.json(), reply.header("ETag") or ""))

    def reader() -> None:
        while not stop.is_set():
            payload = server.get(path).json()
            with lock:
                reads.append(payload)

    watcher = threading.Thread(target=reader)
    watcher.start()
    _run_threads(len(bodies), writer)
    stop.set()
    watcher.join(30)
    assert len(seen) == 3 * len(bodies)
    assert all(payload == canonical[n] for n, payload, _ in seen)
    final = server.get(path)
    assert final.json() in canonical
    assert final.header("ETag") in {etag for _, payload, etag in seen if payload == final.json()}
    allowed = [*canonical, {"num_roi": 0, "roi_coords": [], "roi_frames": []}]
    assert reads and all(payload in allowed for payload in reads)


def test_concurrent_puts_with_one_if_match_let_exactly_one_win(server: DcmviewProcess) -> None:
    path = "api/file/1/annotations"
    etag = server.put_json(path, {"roi_coords": []}).header("ETag")
    statuses: list[int] = []
    lock = threading.Lock()

    def attempt(n: int) -> None:
        reply = server.put_json(
            path, {"roi_coords": [[0, 0, n + 1, n + 1]]}, headers={"If-Match": etag}
        )
        with lock:
            statuses.append(reply.status)

    _run_threads(12, attempt)
    assert sorted(statuses) == [200] + [412] * 11


# -- hostile CSV text through two processes -----------------------------------------------------
def _hostile_csv(folder: Path, target: Path) -> Path:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        ["anon_dicom_path", "=note", "num_ROI", "ROI_coords", "reader, ID", "ROI_frames"]
    )
    writer.writerow(["slice_001.dcm", HOSTILE_CELLS[0], "1", "((1, 2, 30, 40),)", "r1", ""])
    writer.writerow(
        [
            f"{folder}/multiframe.dcm",
            HOSTILE_CELLS[1],
            "2",
            "[[5,6,7,8],[9,9,20,20]]",
            "",
            "[[2,1],[]]",
        ]
    )
    for n, cell in enumerate(HOSTILE_CELLS[2:]):
        writer.writerow([f"elsewhere/{n}{cell[:3]}.dcm", cell, "", "()", cell[::-1], ""])
    writer.writerow(["-rf.dcm", "'@", "0", "[]", "=1", "[]"])
    target.write_bytes(("\ufeff" + out.getvalue()).encode("utf-8"))
    return target


def test_hostile_csv_text_round_trips_through_two_servers(folder: Path, tmp_path: Path) -> None:
    source = _hostile_csv(folder, tmp_path / "hostile.csv")
    cache = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    exports = []
    payloads = []
    csv_path = source
    for round_ in range(2):
        with DcmviewProcess(
            "--port", "0", "--annotations", str(csv_path), str(folder), env=cache, cwd=str(folder)
        ) as proc:
            proc.wait_scan()
            files = proc.get("api/files").json()["files"]
            payloads.append([proc.get(f"api/file/{f['index']}/annotations").json() for f in files])
            exports.append(proc.get("api/annotations/export.csv").body)
            assert proc.stop() == 0
        csv_path = tmp_path / f"export{round_}.csv"
        csv_path.write_bytes(exports[-1])
    assert exports[0] == exports[1]
    assert payloads[0] == payloads[1]
    assert any(p["num_roi"] == 2 and p["roi_frames"] == [[1, 2], []] for p in payloads[0])
    original, exported = read_csv(source), read_csv(tmp_path / "export0.csv")
    assert exported.columns == original.columns == ("=note", "reader, ID")
    assert [(r.path, r.coords, r.extra) for r in exported.rows] == [
        (r.path, r.coords, r.extra) for r in original.rows
    ]
    text = exports[0].decode("utf-8")
    for line in csv.reader(io.StringIO(text, newline="")):
        assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in line)


# -- hostile CSV input stops start-up -----------------------------------------------------------
def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, timeout=timeout)


HEADER = "anon_dicom_path,num_ROI,ROI_coords,ROI_frames\n"
HOSTILE_INPUTS: dict[str, tuple[Callable[[], bytes], int]] = {
    "unterminated-quote": (
        lambda: (HEADER + 'a.dcm,0,[],\nb.dcm,1,"[[1,2,3,4]],\nc.dcm,0,[],\n').encode(),
        3,
    ),
    "million-rows": (
        lambda: ("anon_dicom_path,ROI_coords\n" + "x.dcm,()\n" * 1_000_000).encode(),
        250_002,
    ),
    "200KB-field": (lambda: (HEADER + 'a.dcm,0,[],"' + "x" * 200_000 + '"\n').encode(), 2),
    "wrong-header": (lambda: b"path,coords\r\na.dcm,[]\r\n", 1),
    # A path may hold any bytes (file names are bytes); the other cells must be UTF-8.
    "not-utf8": (lambda: HEADER.encode() + b"a.dcm,0,[],\nb.dcm,0\xff\xfe,[],\n", 3),
    "bom-crlf-bad-row": (
        lambda: ("\ufeff" + HEADER + 'a.dcm,1,"[[1,2,3]]",\r\n').replace("\n", "\r\n").encode(),
        2,
    ),
}


@pytest.mark.parametrize("name", list(HOSTILE_INPUTS))
def test_hostile_csv_input_stops_startup_naming_the_line(
    name: str, folder: Path, tmp_path: Path
) -> None:
    make, line = HOSTILE_INPUTS[name]
    target = tmp_path / "input.csv"
    target.write_bytes(make())
    before = target.read_bytes()
    result = _cli("--port", "0", "--annotations", str(target), str(folder))
    assert result.returncode == 2, result.stderr[-500:]
    assert f" line {line}: " in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert "server running" not in result.stdout  # nothing was served, nothing loaded
    assert target.read_bytes() == before


# -- recovery files are whole or absent ---------------------------------------------------------
def _dirty_store(tmp_path: Path) -> AnnotationStore:
    files = [LoadedFile(0, str(tmp_path / "a.dcm"), ImageShape(64, 64, 1))]
    store = AnnotationStore(files)
    store.put(0, {"roi_coords": [[1, 2, 3, 4]]})
    return store


@pytest.mark.parametrize("failing", ["fsync", "chmod", "replace"])
def test_a_failed_recovery_write_leaves_no_file_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    store = _dirty_store(tmp_path)
    folder = tmp_path / "recovery"

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(recovery.os, failing, boom)
    with pytest.raises(OSError):
        store.write_recovery(folder)
    monkeypatch.undo()
    assert list(folder.iterdir()) == []
    saved = store.write_recovery(folder)
    assert saved is not None and saved.read_bytes().decode("utf-8") == store.export_csv()


def test_a_failed_rewrite_keeps_the_old_content_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "recovery.csv"
    recovery.write_private(target, b"old,complete\r\n")

    def boom(*args, **kwargs):
        raise OSError(5, "I/O error")

    monkeypatch.setattr(recovery.os, "fsync", boom)
    with pytest.raises(OSError):
        recovery.write_private(target, b"new,content\r\n" * 1000)
    assert target.read_bytes() == b"old,complete\r\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["recovery.csv"]
