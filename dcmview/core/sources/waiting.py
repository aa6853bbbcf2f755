"""Waiting for network calls without being stuck in them: Ctrl+C stops promptly even with reads
in flight (SPEC §11).

A blocking call of a protocol library (a listing, a batch of ranged reads, a DICOMweb request)
runs in a daemon thread while the scan's thread waits for it in short steps, calling ``tick``
between them: the scan's progress callback, which raises when the session is ending. The scan
then stops at once; the abandoned call ends by itself (its timeouts bound it) or with the
process, since daemon threads do not hold up the interpreter's exit.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
_STEP = 0.1  # seconds between ticks while waiting


def interruptible(call: Callable[[], T], tick: Callable[[], None] | None) -> T:
    """``call()``, in a daemon thread; raises what it raises, or what ``tick`` raises."""
    (result,) = run_all([call], 1, tick)
    if isinstance(result, _Failed):
        raise result.error
    return result


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def run_all(
    calls: Sequence[Callable[[], Any]],
    limit: int,
    tick: Callable[[], None] | None,
    on_done: Callable[[int, Any], None] | None = None,
) -> list[Any]:
    """Run ``calls``, at most ``limit`` at once, each in a daemon thread; their results in
    order (a call that raised gives a :class:`_Failed`). ``on_done(index, result)`` is called
    in this thread as each ends; ``tick`` while waiting (it may raise to stop)."""
    done: queue.Queue[tuple[int, Any]] = queue.Queue()
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            value: Any = calls[index]()
        except BaseException as exc:
            value = _Failed(exc)
        done.put((index, value))

    started = finished = 0
    while finished < len(calls):
        while started < len(calls) and started - finished < limit:
            name = "dcmview-remote-read"
            threading.Thread(target=run, args=(started,), name=name, daemon=True).start()
            started += 1
        try:
            index, value = done.get(timeout=_STEP)
        except queue.Empty:
            if tick is not None:
                tick()
            continue
        results[index] = value
        finished += 1
        if on_done is not None:
            on_done(index, value)
    return results


def failed(result: Any) -> BaseException | None:
    """The error of a :func:`run_all` result that raised, else None."""
    return result.error if isinstance(result, _Failed) else None


class Stopped(BaseException):
    """What ``progress`` raised while waiting (the session is ending), carried past the
    handlers of read failures (they catch Exception); :func:`stopping` raises it again."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


def ticker(progress: Callable[..., None], *counts: int, **listing: int) -> Callable[[], None]:
    """A ``tick`` for the waits above: ``progress`` again, whose exception stops the scan."""

    def tick() -> None:
        try:
            progress(*counts, **listing)
        except Exception as exc:
            raise Stopped(exc) from exc

    return tick
