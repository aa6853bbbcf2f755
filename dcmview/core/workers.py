"""Compressed frames decoded in worker processes, and the next frames read ahead.

The JPEG, JPEG-LS and JPEG 2000 decoders keep the GIL for a whole frame (10 ms for a 512²
JPEG-LS frame, 60 ms for JPEG 2000, over a second for a tomosynthesis frame). In a thread that
froze everything else of the process: the server's event loop, cache hits, the tag panel, the
notebook kernel. In a worker process it freezes nothing, two frames decode at once on two cores,
and a decoder that crashes on damaged data costs one answer (a 422), not the session.

The workers are plain child processes (``python -c ...`` reading pickled tasks on stdin and
writing their results on a pipe of their own), not :mod:`multiprocessing`: that re-imports the
parent's main module in every child (a notebook kernel's, or a script read from stdin, which then
fails) and needs POSIX semaphores that some containers lack. A worker exits when its stdin
closes, so none outlives its parent. They also read the headers of large folders (see
``discovery.scan``).

One pool serves the whole process (every Study, every notebook Viewer). It is started by the
first compressed frame, which is decoded in the calling thread meanwhile (a worker takes about
half a second to import its decoders); until a worker says it is ready, frames are decoded in the
calling thread as before. Idle workers exit; :func:`shutdown` stops them at once (the server
calls it when it stops).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import IO, Any

from .budget import IN_FLIGHT, raw_cost
from .errors import DcmviewError, PixelDecodeFailed
from .model import FileRecord
from .transfer_syntaxes import GIL_HOLDING_DECODERS, decoder_of

RawEntry = tuple[bytes, dict[str, str]]

# RLE (~1 ms a frame, less than the trip to a worker and back) stays in the process; its next
# frame is read ahead in a thread instead, while the client is busy with the current one.
_AHEAD_IN_THREAD = frozenset({"pylibjpeg-rle"})
_LENGTH = struct.Struct("<Q")
# A worker with nothing to do for this long exits; they start again when needed.
IDLE_EXIT_SECONDS = 300.0
_READY = b"dcmview-worker-ready"


def wanted(record: FileRecord) -> bool:
    """True when ``record``'s frames are better decoded in a worker process."""
    layout = record.layout
    return (
        layout is not None
        and layout.encapsulated
        and record.pixel_data_offset is not None
        and decoder_of(record.transfer_syntax_uid) in GIL_HOLDING_DECODERS
    )


def read_ahead_depth(record: FileRecord) -> int:
    """How many frames past the one asked for are worth decoding ahead for ``record``."""
    if wanted(record):
        return 2  # one per worker
    layout = record.layout
    if layout is not None and decoder_of(record.transfer_syntax_uid) in _AHEAD_IN_THREAD:
        return 1
    return 0


def raw_entry(record: FileRecord, frame: int) -> RawEntry:
    """Decode ``frame`` and describe it (``/raw``'s body and headers)."""
    from .frames import decode_frame
    from .render import raw_frame

    with IN_FLIGHT.reserve(raw_cost(record)):
        return raw_frame(record, decode_frame(record, frame))


# -- the worker's side -------------------------------------------------------------------------
def serve(source: IO[bytes], sink: IO[bytes]) -> None:
    """A worker's loop: ``(name, args)`` in, ``(True, result)`` or ``(False, error)`` out."""
    import signal
    import warnings

    from . import encapsulated, frames, render  # noqa: F401  (imported before "ready")

    # Ctrl+C in a terminal reaches the whole process group: the parent stops its workers in
    # order (closing their stdin) instead of having them die under a task.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    warnings.simplefilter("ignore")
    _send(sink, _READY)
    while True:
        message = _receive(source)
        if message is None:
            return
        name, args = pickle.loads(message)
        try:
            reply: tuple[bool, Any] = (True, _CALLS[name](*args))
        except DcmviewError as exc:
            reply = (False, exc)
        except Exception as exc:
            reply = (False, PixelDecodeFailed(f"{name} failed in a worker: {exc}"))
        _send(sink, pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL))


def _read_headers(candidates: list[tuple[str, str | None]], filters: list[Any]) -> list[Any]:
    from .discovery import read_chunk

    return read_chunk(candidates, filters)


# What a worker may be asked to run (by name: only these, nothing pickled as code).
_CALLS: dict[str, Callable[..., Any]] = {"frame": raw_entry, "headers": _read_headers}


def _send(sink: IO[bytes], data: bytes) -> None:
    sink.write(_LENGTH.pack(len(data)))
    sink.write(data)
    sink.flush()


def _receive(source: IO[bytes]) -> bytes | None:
    head = source.read(_LENGTH.size)
    if len(head) != _LENGTH.size:
        return None
    (length,) = _LENGTH.unpack(head)
    data = source.read(length)
    return data if len(data) == length else None


# -- the parent's side -------------------------------------------------------------------------
_Task = tuple[str, tuple[Any, ...], "Future[Any]"] | str
# Put on the task queue: the worker taking it exits unless tasks are waiting.
_RETIRE = "retire"
_IDLE = "idle"


class _Worker(threading.Thread):
    """One child process and the thread that feeds it tasks from the shared queue."""

    def __init__(
        self,
        tasks: queue.Queue[_Task | None],
        on_ready: threading.Event,
        retire: Callable[[_Worker], bool],
    ) -> None:
        super().__init__(name="dcmview-worker", daemon=True)
        self.tasks = tasks
        self.on_ready = on_ready
        self.retire = retire
        self.process: subprocess.Popen[bytes] | None = None
        self.replies: IO[bytes] | None = None

    def run(self) -> None:
        while self._start_process():
            if not self._serve_tasks():
                return  # asked to stop
            # The process died (a decoder crashed): start another one and go on.

    def _start_process(self) -> bool:
        package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        # Replies come on a pipe of their own, not stdout: nothing a library or a site
        # customisation prints (to Python's stdout or C's) can get into them.
        reply_read, reply_write = os.pipe()
        code = (
            f"import os, sys; sys.path.insert(0, {package_root!r}); "
            "from dcmview.core.workers import serve; "
            f"serve(sys.stdin.buffer, os.fdopen({reply_write}, 'wb'))"
        )
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(reply_write,),
            )
        except OSError:
            os.close(reply_read)
            return False
        finally:
            os.close(reply_write)
        self.replies = os.fdopen(reply_read, "rb")
        if _receive(self.replies) != _READY:
            self._end_process()
            return False
        self.on_ready.set()
        return True

    def _serve_tasks(self) -> bool:
        """Run tasks until told to stop (False) or until the process dies (True)."""
        process, replies = self.process, self.replies
        assert process is not None and process.stdin is not None and replies is not None
        while True:
            try:
                task = self.tasks.get(timeout=IDLE_EXIT_SECONDS)
            except queue.Empty:
                task = _IDLE  # nothing to do for this long: give the memory back
            if task in (_RETIRE, _IDLE):
                if not self.retire(self):
                    if task == _RETIRE:
                        self.tasks.put(_RETIRE)  # tasks are waiting: try again after them
                    continue
                task = None
            if task is None:
                self._end_process()
                return False
            assert isinstance(task, tuple)
            name, args, future = task
            if not future.set_running_or_notify_cancel():
                continue
            try:
                _send(process.stdin, pickle.dumps((name, args)))
                reply = _receive(replies)
            except OSError:
                reply = None
            if reply is None:
                what = f"frame {args[1]} could not be decoded" if name == "frame" else name
                future.set_exception(PixelDecodeFailed(f"{what}: the worker crashed on its data"))
                self._end_process()
                return True
            ok, value = pickle.loads(reply)
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def _end_process(self) -> None:
        process, self.process = self.process, None
        replies, self.replies = self.replies, None
        if process is None:
            return
        for stream in (process.stdin, replies):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _has_tasks(tasks: queue.Queue[_Task | None]) -> bool:
    """True when work (not a retire marker) is queued."""
    with tasks.mutex:
        return any(task is not _RETIRE for task in tasks.queue)


class _Pool:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tasks: queue.Queue[_Task | None] | None = None
        self._workers: list[_Worker] = []
        self._ready = threading.Event()

    def submit(self, name: str, *args: Any) -> Future[Any] | None:
        """``_CALLS[name](*args)`` in a worker; None while no worker is ready."""
        with self._lock:
            if self._tasks is None or not self._ready.is_set():
                return None
            if not any(worker.is_alive() for worker in self._workers):
                return None  # workers could not be started here: work in the caller
            future: Future[Any] = Future()
            self._tasks.put((name, args, future))
            return future

    @property
    def size(self) -> int:
        with self._lock:
            return sum(1 for worker in self._workers if worker.is_alive())

    def start(self) -> None:
        """Start the workers (if not started); returns at once."""
        with self._lock:
            if self._tasks is not None:
                return
            self._tasks = queue.Queue()
            self._ready = threading.Event()
            count = max(1, min(2, os.cpu_count() or 1))
            self._workers = [_Worker(self._tasks, self._ready, self._retire) for _ in range(count)]
            for worker in self._workers:
                worker.start()

    def _retire(self, worker: _Worker) -> bool:
        """Let an idle worker go unless a task arrived meanwhile; the last one to go resets
        the pool, so that the next compressed frame starts it again."""
        with self._lock:
            if worker not in self._workers:
                return True
            if self._tasks is not None and _has_tasks(self._tasks):
                return False
            self._workers.remove(worker)
            if not self._workers:
                self._tasks = None
                self._ready = threading.Event()
            return True

    def release(self) -> None:
        """Let every worker exit once it has nothing to do (they start again when needed)."""
        with self._lock:
            if self._tasks is not None:
                for _ in self._workers:
                    self._tasks.put(_RETIRE)

    def shutdown(self) -> None:
        with self._lock:
            tasks, workers = self._tasks, self._workers
            self._tasks, self._workers = None, []
        if tasks is None:
            return
        while True:  # tasks nobody will run
            try:
                task = tasks.get_nowait()
            except queue.Empty:
                break
            if isinstance(task, tuple):
                task[2].cancel()
        for _ in workers:
            tasks.put(None)
        for worker in workers:
            worker.join(5)

    @property
    def running(self) -> bool:
        with self._lock:
            return any(worker.is_alive() for worker in self._workers)

    def wait_ready(self, timeout: float) -> bool:
        with self._lock:
            ready = self._ready
        return ready.wait(timeout)

    def pids(self) -> list[int]:
        with self._lock:
            processes = [worker.process for worker in self._workers]
        return [process.pid for process in processes if process is not None]


class _Thread:
    """One thread for reading ahead frames that decode fast in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    def submit(self, record: FileRecord, frame: int) -> Future[RawEntry]:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="dcmview-ahead")
            return self._executor.submit(raw_entry, record, frame)

    def shutdown(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


_POOL = _Pool()
_THREAD = _Thread()


def decode(record: FileRecord, frame: int) -> RawEntry:
    """``raw_entry(record, frame)``: in a worker when ``wanted(record)`` and one is ready."""
    if not wanted(record):
        return raw_entry(record, frame)
    with IN_FLIGHT.reserve(raw_cost(record, in_worker=True)):
        future = _POOL.submit("frame", record, frame)
        if future is not None:
            return result(future, frame)
        try:
            return raw_entry(record, frame)
        finally:
            _POOL.start()


def submit(record: FileRecord, frame: int) -> Future[RawEntry] | None:
    """Start decoding ``frame`` ahead, in a worker or the read-ahead thread; None when there
    is nothing to do it (see :func:`read_ahead_depth`) or no worker is ready yet.

    The future fails only with a DcmviewError (or is cancelled when the session ends).
    """
    if wanted(record):
        return _POOL.submit("frame", record, frame)
    if read_ahead_depth(record):
        return _THREAD.submit(record, frame)
    return None


def start() -> None:
    """Start the workers if they are not running (returns at once)."""
    _POOL.start()


def read_headers(
    candidates: list[tuple[str, str | None]], filters: list[Any]
) -> Future[Any] | None:
    """``discovery.read_chunk(candidates, filters)`` in a worker; None when none is ready."""
    return _POOL.submit("headers", candidates, filters)


def ready_workers() -> int:
    """How many worker processes are running."""
    return _POOL.size if _POOL.wait_ready(0) else 0


def result(future: Future[RawEntry], frame: int) -> RawEntry:
    """Wait for a worker's answer."""
    try:
        return future.result()
    except DcmviewError:
        raise
    except BaseException:
        if future.cancelled():
            raise PixelDecodeFailed(
                f"frame {frame} was not decoded: the session is ending"
            ) from None
        raise


def running() -> bool:
    """True when worker processes are running (or starting)."""
    return _POOL.running


def wait_ready(timeout: float) -> bool:
    """Start the workers if needed and wait until one can take frames; False on timeout."""
    _POOL.start()
    return _POOL.wait_ready(timeout)


def worker_pids() -> list[int]:
    """Process ids of the running workers (for diagnostics)."""
    return _POOL.pids()


def release() -> None:
    """Let the workers exit once idle: after a parallel scan found no compressed file, say."""
    _POOL.release()


def shutdown() -> None:
    """Stop the workers and the read-ahead thread (they start again when needed)."""
    _POOL.shutdown()
    _THREAD.shutdown()
