"""The real ``dcmview`` command in a subprocess: start-up, exit codes, signals, CSV errors."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from . import dicomgen as gen
from .harness import DcmviewProcess, run_cli

run = run_cli


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "study"
    root.mkdir()
    gen.write_ct_series(root, count=2)
    return root


def test_help_has_examples_and_version_prints() -> None:
    out = run("--help").stdout
    assert "examples:" in out and "--filter" in out and "ssh -L" in out
    version = run("--version")
    assert version.returncode == 0 and version.stdout.startswith("dcmview 0.")


def test_console_script_is_installed() -> None:
    exe = shutil.which("dcmview")
    if exe is None:
        pytest.skip("the package is not installed (pip install -e .)")
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and "dcmview" in out.stdout


def test_url_is_printed_before_the_scan_result(folder: Path, serve) -> None:
    proc = serve("--port", "0", str(folder))
    proc.wait_line("loaded 2 DICOM file(s)")
    proc.stop()
    lines = proc.stdout
    url_line = next(
        i for i, line in enumerate(lines) if "server running at http://127.0.0.1:" in line
    )
    loaded = next(i for i, line in enumerate(lines) if "loaded 2 DICOM file(s)" in line)
    assert url_line < loaded
    assert any(f"ssh -L {proc.port}:localhost:{proc.port}" in line for line in lines)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signals_stop_with_exit_code_0(folder: Path, serve, sig: int) -> None:
    proc = serve("--port", "0", str(folder))
    assert proc.stop(sig) == 0
    assert "Traceback" not in proc.output


def test_port_in_use_is_one_line_and_exit_1(folder: Path) -> None:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        result = run("--port", str(port), str(folder))
    finally:
        holder.close()
    assert result.returncode == 1
    assert result.stderr.strip() == f"dcmview: port {port} is already in use — try --port 0"


def test_no_usable_file_exits_1(tmp_path: Path) -> None:
    gen.write_not_dicom(tmp_path)
    gen.write_empty(tmp_path)
    result = run(str(tmp_path))
    assert result.returncode == 1
    assert "no usable DICOM file" in result.stderr and "not a DICOM file" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_path_is_reported(tmp_path: Path) -> None:
    result = run(str(tmp_path / "nope"))
    assert result.returncode == 1 and "no such file or directory" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("--filter", "modality"),
        ("--filter", "colour=red"),
        ("--port", "70000"),
        ("--timeout", "-1"),
        ("--cache-budget", "lots"),
        ("--tunnel",),
        ("--tunnel", "--tunnel-host", "-oProxyCommand=x"),
        (),
    ],
)
def test_bad_arguments_exit_2(folder: Path, args: tuple[str, ...]) -> None:
    extra = [str(folder)] if args else []
    result = run(*args, *extra)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.strip()


def test_idle_timeout_exits_0(folder: Path) -> None:
    start = time.monotonic()
    result = run("--timeout", "1", str(folder), timeout=30)
    assert result.returncode == 0
    assert time.monotonic() - start < 15
    assert "--timeout" in result.stdout + result.stderr


def test_filters_keep_matching_files(tmp_path: Path, serve) -> None:
    gen.write_ct_series(tmp_path, count=2)
    gen.write_multiframe(tmp_path, frames=2, rows=8, columns=8, patient_id="ABC123")
    proc = serve(
        "--port", "0", "--filter", "modality=xa", "--filter", "PatientID=c12", str(tmp_path)
    )
    listing = proc.get("api/files").json()
    assert [f["patient_id"] for f in listing["files"]] == ["ABC123"]
    assert listing["filtered"] == 2
    assert all(e["disposition"] == "filtered" for e in listing["discovery"])


def test_no_recursive_reads_only_the_top_level(tmp_path: Path, serve) -> None:
    gen.write_multiframe(tmp_path, frames=1, rows=8, columns=8, name="top.dcm")
    (tmp_path / "sub").mkdir()
    gen.write_multiframe(tmp_path / "sub", frames=1, rows=8, columns=8, name="deep.dcm")
    proc = serve("--port", "0", "--no-recursive", str(tmp_path))
    assert [Path(f["path"]).name for f in proc.get("api/files").json()["files"]] == ["top.dcm"]


def _csv(path: Path, rows: list[str]) -> Path:
    path.write_text("anon_dicom_path,num_ROI,ROI_coords,ROI_frames\n" + "\n".join(rows) + "\n")
    return path


def test_annotations_csv_is_loaded(folder: Path, tmp_path: Path, serve) -> None:
    csv = _csv(tmp_path / "rois.csv", ['study/slice_001.dcm,1,"[[1,2,30,40]]","[]"'])
    before = csv.read_bytes()
    proc = serve("--port", "0", "--annotations", str(csv), str(folder))
    files = proc.get("api/files").json()["files"]
    i = next(f["index"] for f in files if f["path"].endswith("slice_001.dcm"))
    assert proc.get(f"api/file/{i}/annotations").json()["roi_coords"] == [[1, 2, 30, 40]]
    proc.stop()
    assert csv.read_bytes() == before


def test_invalid_csv_row_stops_startup_naming_the_line(folder: Path, tmp_path: Path) -> None:
    csv = _csv(
        tmp_path / "rois.csv",
        [
            'study/slice_001.dcm,1,"[[1,2,30,40]]","[]"',
            'study/slice_002.dcm,1,"[[1,2,300,40]]","[]"',
        ],
    )
    result = run("--annotations", str(csv), str(folder))
    assert result.returncode == 2
    assert "line 3" in result.stderr and "Traceback" not in result.stderr


def test_unreadable_csv_syntax_exits_2(folder: Path, tmp_path: Path) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("path,coords\nx,y\n")
    result = run("--annotations", str(csv), str(folder))
    assert result.returncode == 2 and "line 1" in result.stderr


def test_unexported_edits_are_saved_on_exit(folder: Path, tmp_path: Path, serve) -> None:
    cache = tmp_path / "cache"
    proc = serve("--port", "0", str(folder), env={"XDG_CACHE_HOME": str(cache)})
    reply = proc.put_json("api/file/0/annotations", {"roi_coords": [[1, 1, 5, 5]]})
    assert reply.status == 200
    assert proc.stop() == 0
    saved = [Path(line.split(" saved to ", 1)[1]) for line in proc.stderr if " saved to " in line]
    assert len(saved) == 1 and saved[0].is_file()
    assert str(saved[0]).startswith(str(cache))
    assert stat.S_IMODE(saved[0].stat().st_mode) == 0o600
    assert "[[1,1,5,5]]" in saved[0].read_text()


def test_exported_edits_leave_no_recovery_file(folder: Path, tmp_path: Path, serve) -> None:
    cache = tmp_path / "cache"
    proc = serve("--port", "0", str(folder), env={"XDG_CACHE_HOME": str(cache)})
    proc.put_json("api/file/0/annotations", {"roi_coords": [[1, 1, 5, 5]]})
    assert proc.get("api/annotations/export.csv").status == 200
    proc.stop()
    assert not any(" saved to " in line for line in proc.stderr)


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=30)
        self.unix_path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.unix_path)


def test_unix_socket_is_private_and_serves(folder: Path, tmp_path: Path) -> None:
    sock_path = str(tmp_path / "dcmview.sock")
    with DcmviewProcess("--unix-socket", sock_path, str(folder)) as proc:
        proc.wait_url()
        deadline = time.monotonic() + 20
        while True:
            conn = _UnixConnection(sock_path)
            conn.request("GET", "/api/files", headers={"Authorization": f"Bearer {proc.token}"})
            resp = conn.getresponse()
            body = resp.read()
            if b'"scan_complete":true' in body or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert resp.status == 200 and b"slice_001.dcm" in body
        assert stat.S_IMODE(os.stat(sock_path).st_mode) == 0o600
        assert proc.stop() == 0
    assert not os.path.exists(sock_path)


def test_demo_serves_the_generated_study_with_its_rois(tmp_path: Path, serve) -> None:
    proc = serve("--port", "0", "--demo", env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    listing = proc.get("api/files").json()
    # Its own CSV and marker file are not reported as skipped files.
    assert listing["skipped"] == 0 and listing["discovery"] == []
    files = listing["files"]
    modalities = {f["modality"] for f in files}
    assert {"CT", "MG"} <= modalities and len(files) >= 40
    assert any(f["frame_count"] >= 60 for f in files)
    assert any((f["rows"], f["columns"]) == (3000, 2500) for f in files)
    with_rois = [
        f for f in files if proc.get(f"api/file/{f['index']}/annotations").json()["num_roi"]
    ]
    assert with_rois
    # The CT carries two layers: the organ SEG among the inputs, the NIfTI prediction overlay.
    layers = {layer["source"]: layer for layer in proc.wait_layers()}
    assert set(layers) == {"seg", "nifti"}
    assert all(layer["stack_id"] and not layer["problem"] for layer in layers.values())


def test_progress_line_on_a_terminal(tmp_path: Path) -> None:
    import pty

    for i in range(30):
        gen.write_image(tmp_path / f"f{i}.dcm", gen.phantom(4, 4), instance_number=i + 1)
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dcmview", "--no-browser", "--timeout", "1", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=terminal,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    os.close(terminal)
    proc.wait(30)
    seen = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(controller)
    assert b"\rdcmview: scanning... " in seen
    assert "loaded 30 DICOM file(s)" in proc.stdout.read()
