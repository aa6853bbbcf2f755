"""Stopping under load, the idle timeout, and a whole session over read-only inputs.

``test_cli.py`` proves that an idle server exits 0 on a signal or its timeout; here the server is
busy (decodes in flight, connections open, unexported edits) when it is told to stop, and the
inputs are read-only files and folders that must come out byte for byte unchanged.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from pathlib import Path

import pytest
from pydicom.uid import JPEG2000Lossless

from . import dicomgen as gen
from . import malformed
from .conftest import checksums
from .harness import DcmviewProcess

STOP_WITHIN = 10.0  # seconds from SIGTERM to exit, with decodes in flight


def _saved_path(proc: DcmviewProcess) -> Path:
    lines = [line for line in proc.stderr if "unexported ROI edits were saved to " in line]
    assert len(lines) == 1, proc.output
    return Path(lines[0].split(" saved to ", 1)[1])


def _port_closed(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return True
    return False


@pytest.fixture(scope="module")
def busy_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("busy")
    gen.write_multiframe(
        root, frames=16, rows=512, columns=512, transfer_syntax=JPEG2000Lossless, name="cine.dcm"
    )
    return root


def test_sigterm_with_decodes_in_flight_exits_0_quickly_and_saves_edits(
    busy_folder: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    proc = DcmviewProcess("--port", "0", str(busy_folder), env={"XDG_CACHE_HOME": str(cache)})
    try:
        proc.wait_scan()
        assert proc.put_json("api/file/0/annotations", {"roi_coords": [[1, 1, 9, 9]]}).status == 200
        outcomes: list[object] = []

        def fetch(frame: int) -> None:
            try:
                outcomes.append(proc.get(f"api/file/0/frame/{frame}").status)
            except OSError as exc:  # the server may close the connection while stopping
                outcomes.append(type(exc).__name__)

        clients = [threading.Thread(target=fetch, args=(f,)) for f in range(16)]
        for client in clients:
            client.start()
        time.sleep(0.3)
        start = time.monotonic()
        proc.proc.send_signal(signal.SIGTERM)
        code = proc.wait_exit(STOP_WITHIN + 20)
        elapsed = time.monotonic() - start
        for client in clients:
            client.join(15)
    finally:
        proc.stop()
    assert code == 0 and elapsed < STOP_WITHIN, (code, elapsed)
    assert len(outcomes) == 16 and 500 not in outcomes
    assert "Traceback" not in proc.output
    saved = _saved_path(proc)
    assert saved.parent == cache / "dcmview" / "recovery"
    assert "[[1,1,9,9]]" in saved.read_bytes().decode("utf-8")
    assert _port_closed(proc.port)


def test_idle_timeout_waits_for_silence_then_saves_edits_and_exits(
    busy_folder: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    proc = DcmviewProcess(
        "--port", "0", "--timeout", "1", str(busy_folder), env={"XDG_CACHE_HOME": str(cache)}
    )
    try:
        proc.wait_scan()
        assert proc.put_json("api/file/0/annotations", {"roi_coords": [[2, 2, 5, 5]]}).status == 200
        busy_until = time.monotonic() + 2.5
        while time.monotonic() < busy_until:  # requests keep it alive past its 1 s timeout
            assert proc.get("api/files").status == 200
            time.sleep(0.3)
        quiet_from = time.monotonic()
        code = proc.wait_exit(30)
        silent_for = time.monotonic() - quiet_from
    finally:
        proc.stop()
    assert code == 0
    assert silent_for < 6.0, silent_for
    assert "--timeout" in proc.output and "Traceback" not in proc.output
    assert "[[2,2,5,5]]" in _saved_path(proc).read_bytes().decode("utf-8")
    assert _port_closed(proc.port)


def _listing(*roots: Path) -> list[str]:
    return sorted(str(p) for root in roots for p in root.rglob("*"))


def test_read_only_files_and_folders_session_changes_nothing(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    nested = inputs / "series" / "cine"
    nested.mkdir(parents=True)
    gen.write_ct_series(inputs / "series", count=2)
    gen.write_multiframe(nested, frames=3, rows=16, columns=16)
    single = gen.write_syntax(inputs, "1.2.840.10008.1.2.5", frames=2, name="single_rle.dcm").path
    malformed.truncated_pixel_data(inputs)
    malformed.random_bytes(inputs)
    csv = inputs / "rois.csv"
    csv.write_text(
        "anon_dicom_path,num_ROI,ROI_coords,ROI_frames,reader\r\n"
        f'{nested / "multiframe.dcm"},1,"[[1,1,4,4]]","[[0,2]]",alice\r\n'
    )
    workdir = tmp_path / "workdir"
    workdir.mkdir()
    for path in sorted(inputs.rglob("*"), reverse=True):
        path.chmod(0o555 if path.is_dir() else 0o444)
    inputs.chmod(0o555)
    workdir.chmod(0o555)
    before, listing = checksums(inputs), _listing(inputs, workdir)
    cache = tmp_path / "cache"
    proc = DcmviewProcess(
        "--port",
        "0",
        "--annotations",
        str(csv),
        str(single),
        str(inputs / "series"),
        str(inputs),
        env={"XDG_CACHE_HOME": str(cache)},
        cwd=str(workdir),
    )
    try:
        proc.wait_scan()
        body = proc.get("api/files").json()
        assert len(body["files"]) == 5 and body["skipped"] == 2  # random bytes, the CSV
        for f in body["files"]:
            i = f["index"]
            assert proc.get(f"api/file/{i}/tags").status == 200
            for frame in range(max(f["frame_count"], 1)):
                assert proc.get(f"api/file/{i}/frame/{frame}").status in (200, 422)
                assert proc.get(f"api/file/{i}/frame/{frame}/raw").status in (200, 422)
            if f["frame_count"]:
                reply = proc.put_json(f"api/file/{i}/annotations", {"roi_coords": [[0, 0, 2, 2]]})
                assert reply.status == 200
                edited = i
        export = proc.get("api/annotations/export.csv").body.decode()
        assert "alice" in export and "[[0,0,2,2]]" in export
        assert proc.put_json(f"api/file/{edited}/annotations", {"roi_coords": []}).status == 200
        proc.proc.send_signal(signal.SIGTERM)
        assert proc.wait_exit(30) == 0
    finally:
        proc.stop()
        for path in [inputs, *inputs.rglob("*"), workdir]:
            if path.is_dir():
                path.chmod(0o755)
    assert checksums(inputs) == before
    assert _listing(inputs, workdir) == listing
    assert _saved_path(proc).is_relative_to(cache)
    assert not [p for p in os.listdir(tmp_path) if p not in ("inputs", "workdir", "cache")]
