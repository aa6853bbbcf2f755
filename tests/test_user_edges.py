"""Rough edges a new user met: scripts that ask too early, a tag shown wrong, claims untested."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest

import dcmview
from dcmview.core.session import open_session

from . import dicomgen as gen


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    gen.write_ct_series(tmp_path, count=3)
    return tmp_path


def test_a_script_can_ask_for_rois_right_after_starting_the_viewer(
    folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # Before: an internal NotReady while the scan ran behind the already answering server.
    out = tmp_path_factory.mktemp("out") / "rois.csv"
    with dcmview.view([folder], browser=False, block=False) as handle:
        assert handle.annotations() == {}
        assert handle.export_csv(out) == out
        assert handle.wait_ready(timeout=30) is True
    assert out.read_text().splitlines()[0] == "anon_dicom_path,num_ROI,ROI_coords,ROI_frames"


def test_waiting_for_a_stopped_server_says_so(folder: Path) -> None:
    handle = dcmview.view([folder], browser=False, block=False)
    handle.wait_ready(30)
    handle.stop()
    assert handle.annotations() == {}  # the files were read: what they hold stays readable


@pytest.mark.parametrize(
    ("syntax", "kind", "vr"),
    [
        (gen.ExplicitVRLittleEndian, "grey16", "OW"),
        (gen.ExplicitVRLittleEndian, "grey8", "OB"),
        (gen.ImplicitVRLittleEndian, "grey16", "OW"),
        (gen.RLELossless, "grey16", "OB"),
    ],
)
def test_pixel_data_shows_its_real_vr(tmp_path: Path, syntax: str, kind: str, vr: str) -> None:
    written = gen.write_syntax(tmp_path, syntax, kind=kind)
    if not pydicom.uid.UID(syntax).is_implicit_VR:
        with pydicom.dcmread(written.path) as ds:
            assert vr == ds["PixelData"].VR  # what the file says, read by pydicom
    session = open_session([str(tmp_path)])
    session.scan()
    node = next(n for n in session.tags(0) if n["keyword"] == "PixelData")
    assert node["vr"] == vr
    session.close()


def test_the_viewer_names_no_host_it_was_not_tested_in(folder: Path) -> None:
    viewer = dcmview.Viewer([folder])
    text = repr(viewer)
    assert text.startswith("dcmview.Viewer(3 DICOM file(s))")
    assert "VS Code" not in text
    viewer.close()


def test_a_start_where_no_browser_opens_says_so_with_the_url(folder: Path, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    # BROWSER names the command webbrowser runs; `false` fails as a headless machine's would.
    env = {**os.environ, "BROWSER": "false", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dcmview", "--timeout", "3", str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    url = next(line for line in out.splitlines() if "server running at" in line).split()[-1]
    assert f"no web browser could be opened here; open {url} yourself" in err


def _scan(*paths: Path):
    from dcmview.core.discovery import scan

    return scan([str(p) for p in paths])


def test_hidden_folders_and_virtual_environments_are_not_read_but_reported(tmp_path: Path) -> None:
    gen.write_ct_series(tmp_path / "study", count=2)
    gen.write_ct_series(tmp_path / ".cache" / "old", count=2)
    venv = tmp_path / "env"
    gen.write_ct_series(venv / "lib" / "site-packages" / "pydicom" / "data", count=2)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    records, entries, _ = _scan(tmp_path)
    assert {Path(r.path).parent.name for r in records} == {"study"}
    reasons = {Path(e.path).name: e.reason for e in entries}
    assert reasons[".cache"].startswith("hidden folder: not read")
    assert reasons["env"].startswith("Python virtual environment: not read")
    # Named on the command line, they are read.
    named, _, _ = _scan(tmp_path / ".cache", venv)
    assert len(named) == 4


def test_links_to_folders_are_followed_once_and_loops_end(tmp_path: Path) -> None:
    gen.write_ct_series(tmp_path / "data" / "ct", count=3)
    (tmp_path / "view").mkdir()
    (tmp_path / "view" / "ct").symlink_to(tmp_path / "data" / "ct", target_is_directory=True)
    (tmp_path / "data" / "ct" / "up").symlink_to(tmp_path / "data", target_is_directory=True)
    records, entries, _ = _scan(tmp_path / "view")
    assert len(records) == 3  # reached through the link
    assert any(e.reason.startswith("link to a folder that is read already") for e in entries)
    everything, _, _ = _scan(tmp_path)
    assert len(everything) == 3  # the same files, read once, under either name


def _viewer_warnings(folder: Path, server_python: str) -> str:
    """Start a stand-in 'Jupyter server' with ``server_python`` and a 'kernel' (this Python)
    that makes a Viewer, as jupyter_client starts kernels (JPY_PARENT_PID); the kernel's
    stderr."""
    import os
    import subprocess
    import sys

    server = subprocess.Popen([server_python, "-c", "import time; time.sleep(120)"])
    try:
        env = {**os.environ, "JPY_PARENT_PID": str(server.pid)}
        script = f"import dcmview; dcmview.Viewer([{str(folder)!r}])"
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stderr
    finally:
        server.kill()
        server.wait()


def test_a_server_in_another_environment_without_anywidget_is_named(folder: Path) -> None:
    import shutil

    system_python = shutil.which("python3", path="/usr/bin")
    if system_python is None:
        pytest.skip("no /usr/bin/python3 here to stand in for another environment")
    err = _viewer_warnings(folder, system_python)
    assert "the Jupyter server runs from another Python environment (/usr)" in err
    assert "no anywidget" in err
    assert f"{Path(system_python).resolve()} -m pip install dcmview" in err


def test_a_server_in_the_same_environment_says_nothing(folder: Path) -> None:
    import sys

    assert "another Python environment" not in _viewer_warnings(folder, sys.executable)
