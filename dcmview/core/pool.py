"""A pool of worker processes that run named jobs: generic, it knows no job of its own.

The workers are plain child processes (``python -c ...`` reading pickled tasks on stdin and
writing their results on a pipe of their own), not :mod:`multiprocessing`: that re-imports the
parent's main module in every child (a notebook kernel's, or a script read from stdin, which then
fails) and needs POSIX semaphores that some containers lack. A worker exits when its stdin
closes, so none outlives its parent; a worker whose process dies (a decoder crashing on damaged
data) fails its one task with :class:`WorkerCrashed` and is replaced.

What a worker may run is a job table: a module with ``JOBS`` (name -> ``"module:function"``) and
``PRELOAD`` (modules imported before the worker says it is ready). Only those names run; nothing
is pickled as code. :func:`in_parallel` spreads a list of chunks over this process and the pool.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, wait
from typing import IO, Any, TypeVar

from .errors import DcmviewError, PixelDecodeFailed

_LENGTH = struct.Struct("<Q")
# A worker with nothing to do for this long exits; they start again when needed.
IDLE_EXIT_SECONDS = 300.0
_READY = b"dcmview-worker-ready"
R = TypeVar("R")


class WorkerCrashed(PixelDecodeFailed):
    """The worker process died under a task (its data crashed a decoder)."""

    def __init__(self, name: str, args: tuple[Any, ...]) -> None:
        what = f"frame {args[1]} could not be decoded" if name == "frame" else name
        super().__init__(f"{what}: the worker crashed on its data")


# -- the worker's side -------------------------------------------------------------------------
def serve(source: IO[bytes], sink: IO[bytes], table: str) -> None:
    """A worker's loop: ``(name, args)`` in, ``(True, result)`` or ``(False, error)`` out."""
    import signal
    import warnings

    jobs_module = importlib.import_module(table)
    jobs = {name: _resolve(target) for name, target in jobs_module.JOBS.items()}
    for module in jobs_module.PRELOAD:  # imported before "ready": the first task pays nothing
        importlib.import_module(module)
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
            reply: tuple[bool, Any] = (True, jobs[name](*args))
        except DcmviewError as exc:
            reply = (False, exc)
        except Exception as exc:
            reply = (False, PixelDecodeFailed(f"{name} failed in a worker: {exc}"))
        _send(sink, pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL))


def _resolve(target: str) -> Callable[..., Any]:
    module, _, function = target.partition(":")
    return getattr(importlib.import_module(module), function)


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


_Task = tuple[str, tuple[Any, ...], "Future[Any]"] | str
# Put on the task queue: the worker taking it exits unless tasks are waiting.
_RETIRE = "retire"
_IDLE = "idle"


class _Worker(threading.Thread):
    """One child process and the thread that feeds it tasks from the shared queue."""

    def __init__(
        self,
        table: str,
        tasks: queue.Queue[_Task | None],
        on_ready: threading.Event,
        retire: Callable[[_Worker], bool],
    ) -> None:
        super().__init__(name="dcmview-worker", daemon=True)
        self.table = table
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
            "from dcmview.core.pool import serve; "
            f"serve(sys.stdin.buffer, os.fdopen({reply_write}, 'wb'), {self.table!r})"
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
                future.set_exception(WorkerCrashed(name, args))
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


class ProcessPool:
    """Worker processes that run the jobs of one job table (see :func:`serve`).

    Started on demand (:meth:`start` returns at once; :meth:`submit` answers None until a
    worker is ready, so callers work in their own thread meanwhile). Idle workers exit after
    :data:`IDLE_EXIT_SECONDS`; :meth:`release` lets them go once idle; the sessions using the
    pool :meth:`hold` it and :meth:`let_go` of it, and the last to let go stops it.
    """

    def __init__(self, table: str, size: int | None = None) -> None:
        self.table = table
        self._size = size or max(1, min(2, os.cpu_count() or 1))
        self._holders = 0
        # Set when the last session let go: a decode still finishing then must not start the
        # workers again (they would outlive a server that is exiting). A new session clears it.
        self._closed = False
        self._lock = threading.Lock()
        self._tasks: queue.Queue[_Task | None] | None = None
        self._workers: list[_Worker] = []
        self._ready = threading.Event()

    def submit(self, name: str, *args: Any) -> Future[Any] | None:
        """Run job ``name`` of the table with ``args`` in a worker; None while none is ready."""
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
        """How many worker processes are running."""
        with self._lock:
            return sum(1 for worker in self._workers if worker.is_alive())

    def ready_workers(self) -> int:
        """How many workers can take tasks now (0 until the first is ready)."""
        return self.size if self.wait_ready(0) else 0

    def start(self) -> None:
        """Start the workers (if not started, and not closed by the last session); returns at
        once."""
        with self._lock:
            if self._tasks is not None or self._closed:
                return
            self._tasks = queue.Queue()
            self._ready = threading.Event()
            self._workers = [
                _Worker(self.table, self._tasks, self._ready, self._retire)
                for _ in range(self._size)
            ]
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

    def hold(self) -> None:
        """A session uses the pool (it may start it later); see :meth:`let_go`."""
        with self._lock:
            self._holders += 1
            self._closed = False

    def let_go(self) -> bool:
        """A session is done with the pool; when none holds it any more, it stops (True)."""
        with self._lock:
            self._holders = max(0, self._holders - 1)
            last = self._holders == 0
            self._closed = last
        if last:
            self.shutdown()
        return last

    def shutdown(self) -> None:
        """Stop the workers now; queued tasks are cancelled (they start again when needed)."""
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
        """True when worker processes are running (or starting)."""
        with self._lock:
            return any(worker.is_alive() for worker in self._workers)

    def wait_ready(self, timeout: float) -> bool:
        """Wait until a worker can take tasks (the pool must be started); False on timeout."""
        with self._lock:
            ready = self._ready
        return ready.wait(timeout)

    def pids(self) -> list[int]:
        with self._lock:
            processes = [worker.process for worker in self._workers]
        return [process.pid for process in processes if process is not None]


def in_parallel(
    pool: ProcessPool,
    job: str,
    chunks: Sequence[tuple[Any, ...]],
    here: Callable[..., R],
    done: Callable[[int, R], None],
) -> None:
    """Run ``here(*chunk)`` for every chunk (a tuple of arguments), in this thread and in the
    pool's workers at once (job ``job`` of the table, with the same arguments), each chunk once.

    This thread takes chunks from the front; as soon as workers are up, each is handed the next
    chunk whenever it has none. A chunk whose worker died or stopped is done here instead.
    ``done(index, result)`` is called in this thread only.
    """
    pool.start()
    pending: dict[int, Future[Any]] = {}
    following = 0
    try:
        while following < len(chunks) or pending:
            for index, future in list(pending.items()):
                if future.done():
                    del pending[index]
                    try:
                        result = future.result()
                    except (DcmviewError, CancelledError):
                        result = here(*chunks[index])
                    done(index, result)
            while following < len(chunks) and len(pending) < pool.ready_workers():
                handed = pool.submit(job, *chunks[following])
                if handed is None:
                    break
                pending[following] = handed
                following += 1
            if following < len(chunks):
                done(following, here(*chunks[following]))
                following += 1
            elif pending:
                wait(list(pending.values()), return_when=FIRST_COMPLETED)
    finally:
        for future in pending.values():
            future.cancel()
