"""``dcmview.view()`` from Python: the handle, blocking use, inside an event loop, no leaks."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import dcmview

from . import dicomgen as gen


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("handle")
    gen.write_ct_series(root, count=2)
    return root


def _get(handle, path: str) -> tuple[int, bytes]:
    req = urllib.request.Request(
        handle.url.split("#")[0] + path, headers={"Authorization": f"Bearer {handle.token}"}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status, resp.read()


def _wait_scan(handle) -> None:
    for _ in range(500):
        if json.loads(_get(handle, "api/health")[1])["scan_complete"]:
            return
        time.sleep(0.01)
    raise TimeoutError


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_handle_answers_while_running_and_refuses_after_stop(folder: Path) -> None:
    handle = dcmview.view([folder], browser=False, block=False)
    assert handle.running and handle.port > 0 and handle.token
    assert handle.url.endswith(f"#token={handle.token}")
    _wait_scan(handle)
    assert _get(handle, "api/files")[0] == 200
    handle.stop()
    assert not handle.running
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        _get(handle, "api/health")


def test_many_handles_leak_no_threads_or_sockets(folder: Path) -> None:
    def settle() -> None:
        time.sleep(0.2)

    handle = dcmview.view([folder], browser=False, block=False)  # warm imports and pools
    handle.stop()
    settle()
    threads, fds = threading.active_count(), _fds()
    for _ in range(20):
        with dcmview.view([folder], browser=False, block=False) as h:
            _get(h, "api/health")
    settle()
    assert threading.active_count() == threads
    assert _fds() == fds


def test_annotations_reflect_a_put_made_over_http(folder: Path, tmp_path: Path) -> None:
    with dcmview.view([folder], browser=False, block=False) as handle:
        _wait_scan(handle)
        assert handle.annotations() == {}
        req = urllib.request.Request(
            handle.url.split("#")[0] + "api/file/1/annotations",
            data=json.dumps({"roi_coords": [[1, 2, 10, 20]]}).encode(),
            method="PUT",
            headers={"Authorization": f"Bearer {handle.token}", "Content-Type": "application/json"},
        )
        urllib.request.urlopen(req, timeout=10).read()
        rois = handle.annotations()
        assert list(rois) == [str(folder / "slice_002.dcm")]
        assert rois[str(folder / "slice_002.dcm")]["roi_coords"] == [[1, 2, 10, 20]]
        out = handle.export_csv(tmp_path / "out.csv")
        assert "[[1,2,10,20]]" in out.read_text()


def test_view_works_inside_a_running_event_loop(folder: Path) -> None:
    async def main() -> int:
        with dcmview.view([folder], browser=False, block=False) as handle:
            await asyncio.sleep(0.05)
            return _get(handle, "api/health")[0]

    # A thread of its own: other tests (Playwright) may leave a loop running in this one.
    result: list[int] = []
    worker = threading.Thread(target=lambda: result.append(asyncio.run(main())))
    worker.start()
    worker.join(30)
    assert result == [200]


def test_blocking_view_returns_after_the_idle_timeout(folder: Path) -> None:
    start = time.monotonic()
    assert dcmview.view([folder], browser=False, timeout=0.5) == 0
    assert time.monotonic() - start < 10


def test_bad_arguments_raise(folder: Path) -> None:
    with pytest.raises(ValueError, match="invalid filter"):
        dcmview.view([folder], browser=False, block=False, filters={"flavour": "x"})
    with (
        dcmview.view([folder], browser=False, block=False) as first,
        pytest.raises(OSError, match="already in use"),
    ):
        dcmview.view([folder], browser=False, block=False, port=first.port)


def test_filters_as_a_mapping(folder: Path, tmp_path: Path) -> None:
    gen.write_multiframe(tmp_path, frames=1, rows=8, columns=8, patient_id="KEEP")
    gen.write_ct_series(tmp_path, count=1)
    with dcmview.view(
        [tmp_path], browser=False, block=False, filters={"patient_id": "keep"}
    ) as handle:
        _wait_scan(handle)
        files = json.loads(_get(handle, "api/files")[1])["files"]
        assert [f["patient_id"] for f in files] == ["KEEP"]


def test_jupyterhub_proxy_url_is_printed(folder: Path, serve) -> None:
    proc = serve("--port", "0", str(folder), env={"JUPYTERHUB_SERVICE_PREFIX": "/user/alice/"})
    expected = f"/user/alice/proxy/{proc.port}/#token={proc.token}"
    assert any(expected in line for line in proc.stdout)
