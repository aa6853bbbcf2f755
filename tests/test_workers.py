"""Compressed frames decoded in worker processes: same pixels, read-ahead, crashes, shutdown."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from dcmview.core import decoding, pool
from dcmview.core.discovery import read_record
from dcmview.core.errors import PixelDecodeFailed
from dcmview.core.frames import decode_frame
from dcmview.core.jobs import POOL
from dcmview.core.model import FrameDescription
from dcmview.core.session import Session

from . import dicomgen as gen
from .harness import DcmviewProcess

JPEG_LS = "1.2.840.10008.1.2.4.80"
J2K = "1.2.840.10008.1.2.4.90"
RLE = "1.2.840.10008.1.2.5"


def _ready(timeout: float) -> bool:
    POOL.start()
    return POOL.wait_ready(timeout)


@pytest.fixture
def workers():
    assert _ready(60), "no worker process became ready"
    yield
    decoding.shutdown()


def _record(path: Path):
    record, _, reason = read_record(str(path))
    assert record is not None, reason
    return record


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes; the parent reaps it when the pool stops.
    with open(f"/proc/{pid}/stat") as fp:
        return fp.read().split(") ")[1][0] != "Z"


@pytest.mark.parametrize("syntax", [JPEG_LS, J2K])
def test_a_worker_decodes_exactly_what_this_process_decodes(
    tmp_path: Path, workers: None, syntax: str
) -> None:
    written = gen.write_syntax(tmp_path, syntax, kind="signed16", frames=3, size=(64, 48))
    record = _record(written.path)
    assert decoding.wanted(record)
    for frame in range(3):
        future = decoding.submit(record, frame)
        assert future is not None
        body, description = decoding.result(future, frame)
        assert np.array_equal(description.array(body), decode_frame(record, frame))
        assert np.array_equal(description.array(body), written.pixels[frame])


def test_uncompressed_and_rle_frames_stay_in_this_process(tmp_path: Path, workers: None) -> None:
    written = gen.write_syntax(tmp_path, "1.2.840.10008.1.2.1", frames=2)
    native = _record(written.path)
    rle = _record(gen.write_syntax(tmp_path, RLE, frames=2).path)
    single = _record(gen.write_syntax(tmp_path / "one", "1.2.840.10008.1.2.1", frames=1).path)
    assert not decoding.wanted(native) and not decoding.wanted(rle)
    # Both read one frame ahead, in this process's read-ahead thread (not a worker).
    assert decoding.read_ahead_depth(native) == 1
    assert decoding.read_ahead_depth(rle) == 1
    assert decoding.read_ahead_depth(single) == 0
    future = decoding.submit(native, 1)
    assert future is not None
    body, description = decoding.result(future, 1)
    assert np.array_equal(description.array(body), written.pixels[1])
    assert decoding.submit(single, 0) is None


def test_a_damaged_frame_is_refused_by_the_worker_and_the_next_one_decodes(
    tmp_path: Path, workers: None
) -> None:
    written = gen.write_syntax(tmp_path, JPEG_LS, frames=2, size=(40, 40))
    data = bytearray(written.path.read_bytes())
    start = data.index(b"\xff\xd8\xff")  # frame 0's codestream: keep its header, wreck its scan
    data[start + 60 : start + 400] = b"\xff" * 340
    written.path.write_bytes(bytes(data))
    record = _record(written.path)
    future = decoding.submit(record, 0)
    assert future is not None
    with pytest.raises(PixelDecodeFailed):
        decoding.result(future, 0)
    body, description = decoding.decode(record, 1)
    assert np.array_equal(description.array(body), written.pixels[1])


def test_a_dead_worker_fails_one_frame_and_is_replaced(tmp_path: Path, workers: None) -> None:
    written = gen.write_syntax(tmp_path, JPEG_LS, frames=2)
    record = _record(written.path)
    pids = POOL.pids()
    assert pids
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    for pid in pids:
        while _alive(pid):
            time.sleep(0.01)
    failures = 0
    for _ in pids:  # each dead worker fails the one task it is handed, then is replaced
        future = decoding.submit(record, 0)
        assert future is not None
        try:
            decoding.result(future, 0)
        except PixelDecodeFailed as exc:
            assert "crashed" in str(exc)
            failures += 1
    assert failures >= 1
    assert _ready(60)
    body, description = decoding.decode(record, 1)
    assert np.array_equal(description.array(body), written.pixels[1])
    assert set(POOL.pids()).isdisjoint(pids)


def test_the_next_frames_are_decoded_ahead(tmp_path: Path, workers: None) -> None:
    gen.write_syntax(tmp_path, JPEG_LS, frames=6, name="cine.dcm")
    study = Session([str(tmp_path)])
    study.scan()
    _, hit = study.raw(0, 2)
    assert not hit
    for ahead in (3, 4):  # one per worker
        assert study.raw_cache.known((0, ahead))
        _, hit = study.raw(0, ahead)
    deadline = time.monotonic() + 30
    while study.cached_raw(0, 4) is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert study.cached_raw(0, 4) is not None
    assert not study.raw_cache.known((0, 0)) and not study.raw_cache.known((0, 1))


def test_shutdown_stops_every_worker_process(tmp_path: Path) -> None:
    assert _ready(60)
    pids = POOL.pids()
    assert pids and all(_alive(pid) for pid in pids)
    decoding.shutdown()
    assert not POOL.running
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_workers_start_from_a_script_read_on_stdin(tmp_path: Path) -> None:
    # multiprocessing would re-run the parent's main module in each child: from stdin it can't.
    written = gen.write_syntax(tmp_path, J2K, frames=2, size=(64, 40))
    script = textwrap.dedent(
        f"""
        import numpy as np
        from dcmview.core import decoding
        from dcmview.core.jobs import POOL
        from dcmview.core.discovery import read_record
        record = read_record({str(written.path)!r})[0]
        POOL.start()
        assert POOL.wait_ready(60)
        body, description = decoding.decode(record, 1)
        print(POOL.pids()[0] != __import__("os").getpid(), len(body))
        decoding.shutdown()
        """
    )
    done = subprocess.run(
        [sys.executable, "-"], input=script, text=True, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", str(64 * 40 * 2)]


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(c) for c in (task / "children").read_text().split())
    return found


def test_ctrl_c_stops_the_server_and_its_workers(tmp_path: Path) -> None:
    gen.write_syntax(tmp_path, JPEG_LS, frames=8, name="cine.dcm")
    with DcmviewProcess("--port", "0", str(tmp_path), new_session=True) as server:
        server.wait_scan()
        deadline = time.monotonic() + 60
        frame = 0
        while len(_children(server.proc.pid)) < 2 and time.monotonic() < deadline:
            assert server.get(f"api/file/0/frame/{frame % 8}/raw").status == 200
            frame += 1
            time.sleep(0.05)
        workers_seen = _children(server.proc.pid)
        assert len(workers_seen) >= 2, "the worker processes did not start"
        assert server.get("api/file/0/frame/7/raw").status == 200
        os.killpg(server.proc.pid, signal.SIGINT)  # what Ctrl+C in a terminal does
        assert server.wait_exit(30) == 0
    for pid in workers_seen:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    with pytest.raises(ProcessLookupError):
        os.killpg(server.proc.pid, 0)
    assert "Traceback" not in server.output


def test_idle_workers_exit_and_come_back_when_needed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pool, "IDLE_EXIT_SECONDS", 0.5)
    written = gen.write_syntax(tmp_path, JPEG_LS, frames=2)
    record = _record(written.path)
    assert _ready(60)
    pids = POOL.pids()
    deadline = time.monotonic() + 30
    while POOL.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not POOL.running
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)  # retired first, then its process is ended
    assert not any(_alive(pid) for pid in pids)
    body, description = decoding.decode(record, 1)  # here, while the workers start again
    assert np.array_equal(description.array(body), written.pixels[1])
    assert _ready(60)
    future = decoding.submit(record, 0)
    assert future is not None
    assert np.array_equal(_array(decoding.result(future, 0)), written.pixels[0])
    decoding.shutdown()


def test_released_workers_exit_once_idle_and_start_again(tmp_path: Path) -> None:
    written = gen.write_syntax(tmp_path, JPEG_LS, frames=2)
    record = _record(written.path)
    assert _ready(60)
    busy = decoding.submit(record, 1)  # a task already queued is still done
    POOL.release()
    assert busy is not None
    assert np.array_equal(_array(decoding.result(busy, 1)), written.pixels[1])
    deadline = time.monotonic() + 30
    while POOL.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not POOL.running
    decoding.decode(record, 0)
    assert _ready(60)
    decoding.shutdown()


def test_a_large_scan_of_uncompressed_files_lets_the_workers_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dcmview.core import discovery

    monkeypatch.setattr(discovery, "PARALLEL_MIN_FILES", 10)
    monkeypatch.setattr(discovery, "PARALLEL_MIN_CPUS", 1)
    monkeypatch.setattr(discovery, "_CHUNK", 5)
    gen.write_tiny_series(tmp_path, count=60)
    assert _ready(60)
    study = Session([str(tmp_path)])
    study.scan()
    assert len(study.files) == 60
    deadline = time.monotonic() + 30
    while POOL.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not POOL.running


def test_workers_ignore_what_the_interpreter_prints(tmp_path: Path) -> None:
    # A site customisation that writes to stdout (from Python and at the file-descriptor level)
    # runs in every worker too; the replies travel on a pipe of their own.
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "import os, sys\nprint('hello from site')\nos.write(1, b'\\x00' * 64)\nsys.stdout.flush()\n"
    )
    written = gen.write_syntax(tmp_path, JPEG_LS, frames=2, size=(32, 32))
    script = textwrap.dedent(
        f"""
        import numpy as np
        from dcmview.core import decoding
        from dcmview.core.jobs import POOL
        from dcmview.core.discovery import read_record
        record = read_record({str(written.path)!r})[0]
        POOL.start()
        assert POOL.wait_ready(60), "no worker became ready"
        future = decoding.submit(record, 1)
        body, description = decoding.result(future, 1)
        print("decoded", len(body))
        decoding.shutdown()
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.getcwd()])}
    done = subprocess.run(
        [sys.executable, "-"], input=script, text=True, capture_output=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr
    assert f"decoded {32 * 32 * 2}" in done.stdout


def _array(entry: tuple[bytes, FrameDescription]) -> np.ndarray:
    body, description = entry
    return description.array(body)


def test_the_pool_stays_while_another_session_holds_it(tmp_path: Path) -> None:
    # A server stopped inside a notebook kernel must not stop the decodes of its viewers. In a
    # process of its own: sessions of other tests would still hold this one's pool.
    written = gen.write_syntax(tmp_path, JPEG_LS, frames=2)
    script = textwrap.dedent(
        f"""
        import numpy as np
        from dcmview.core import decoding
        from dcmview.core.jobs import POOL
        from dcmview.core.session import Session
        first, second = Session([{str(tmp_path)!r}]), Session([{str(tmp_path)!r}])
        first.scan()
        second.scan()
        first.raw(0, 0)
        POOL.start()
        assert POOL.wait_ready(60), "no worker became ready"
        first.close()
        assert POOL.running, "one session's close stopped the pool of the other"
        future = decoding.submit(second.files[0], 1)
        assert future is not None, "no worker took the frame"
        body, description = decoding.result(future, 1)
        print("decoded", len(body))
        second.close()
        assert not POOL.running, "the last session's close left the workers running"
        POOL.start()  # a decode finishing after the last close must not start them again
        assert not POOL.running, "workers started after the last session closed"
        """
    )
    done = subprocess.run(
        [sys.executable, "-"], input=script, text=True, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["decoded", str(written.pixels[1].nbytes)]


def test_the_server_starts_its_workers_after_a_scan_that_needs_them(tmp_path: Path) -> None:
    # No frame is asked for: the scan's end starts the workers when a loaded file will use
    # them (JPEG-LS here), so the first frames do not wait for them; not otherwise.
    (tmp_path / "ls").mkdir()
    (tmp_path / "plain").mkdir()
    gen.write_syntax(tmp_path / "ls", JPEG_LS, frames=2, name="ls.dcm")
    gen.write_multiframe(tmp_path / "plain", frames=2, rows=16, columns=16)
    with DcmviewProcess("--port", "0", str(tmp_path / "plain"), new_session=True) as plain:
        plain.wait_scan()
        with DcmviewProcess("--port", "0", str(tmp_path / "ls"), new_session=True) as server:
            server.wait_scan()
            deadline = time.monotonic() + 60
            while len(_children(server.proc.pid)) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(_children(server.proc.pid)) == 2
        assert plain.get("api/health").status == 200
        assert _children(plain.proc.pid) == set()
