"""dcmview behind a real Jupyter server with jupyter-server-proxy: no extra port is opened."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

import dcmview

from . import dicomgen as gen
from .jupyter_harness import JupyterProcess

pytest.importorskip("jupyter_server_proxy")


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("proxied-study")
    gen.write_ct_series(root, count=3)
    return root


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory: pytest.TempPathFactory, study: Path):
    server = JupyterProcess(tmp_path_factory.mktemp("jupyter"), env={"DCMVIEW_ROOT": str(study)})
    server.wait_ready()
    yield server
    server.stop()


def test_proxy_port_path_reaches_a_running_viewer(jupyter: JupyterProcess, study: Path) -> None:
    with dcmview.view([study], browser=False, block=False) as handle:
        assert handle.wait_ready(60)  # the port answers at once; the files are read behind it
        status, body = jupyter.get(f"proxy/{handle.port}/api/health")
        assert status == 200 and json.loads(body)["status"] == "ok"
        # The hub/Jupyter token authenticates the proxy; ours travels in X-Dcmview-Token.
        status, body = jupyter.get(
            f"proxy/{handle.port}/api/files", headers={"X-Dcmview-Token": handle.token or ""}
        )
        assert status == 200 and len(json.loads(body)["files"]) == 3
        status, _ = jupyter.get(f"proxy/{handle.port}/api/files")
        assert status == 401
        status, page = jupyter.get(f"proxy/{handle.port}/")
        assert status == 200 and b'src="assets/' in page


def test_launcher_entry_serves_the_root_folder_over_a_unix_socket(
    jupyter: JupyterProcess,
) -> None:
    deadline = time.monotonic() + 60
    listing: dict = {}
    while time.monotonic() < deadline:
        status, body = jupyter.get("dcmview/api/files")
        if status == 200:
            listing = json.loads(body)
            if listing["scan_complete"]:
                break
        time.sleep(0.3)
    assert listing.get("scan_complete") is True
    assert sorted(Path(f["path"]).name for f in listing["files"]) == [
        "slice_001.dcm",
        "slice_002.dcm",
        "slice_003.dcm",
    ]
    status, _ = jupyter.get("dcmview/api/file/0/frame/0")
    assert status == 200
    status, page = jupyter.get("dcmview/")
    assert status == 200 and b"assets/" in page


def test_launcher_is_listed_by_jupyter_server_proxy(jupyter: JupyterProcess) -> None:
    status, body = jupyter.get("server-proxy/servers-info")
    assert status == 200
    names = [s["name"] for s in json.loads(body)["server_processes"]]
    assert "dcmview" in names
