"""A byte-budgeted LRU cache whose concurrent misses for one key share a single computation."""

from __future__ import annotations

import contextlib
import copy
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import CancelledError, Future
from typing import Generic, TypeVar

V = TypeVar("V")


class ByteLRU(Generic[V]):
    """Least-recently-used cache bounded by the total size of its values in bytes.

    ``get_or_compute(key, compute, size)`` returns ``(value, hit)``. While one thread computes a
    key, other threads asking for the same key wait for that result instead of computing it again
    (two browser tabs asking for the same frame decode it once). A value larger than the whole
    budget is returned but not kept. The budget is never exceeded, even transiently.

    A failure for which ``lasting(error)`` is true is remembered (the last ``MAX_FAILURES``
    keys): asking for that key again raises the same error at once instead of computing it
    again. A damaged frame cost seconds of CPU on every request before.
    """

    MAX_FAILURES = 4096

    def __init__(
        self, budget_bytes: int, lasting: Callable[[BaseException], bool] | None = None
    ) -> None:
        self.budget = max(0, int(budget_bytes))
        self._lock = threading.Lock()
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._inflight: dict[Hashable, Future[V]] = {}
        self._failures: OrderedDict[Hashable, BaseException] = OrderedDict()
        self._lasting = lasting
        self._used = 0

    @property
    def used(self) -> int:
        """Bytes currently held."""
        with self._lock:
            return self._used

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def peek(self, key: Hashable) -> V | None:
        """The cached value (marked as recently used), or None; never computes or waits."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def get_or_compute(
        self, key: Hashable, compute: Callable[[], V], size: Callable[[V], int]
    ) -> tuple[V, bool]:
        while True:
            with self._lock:
                item = self._items.get(key)
                if item is not None:
                    self._items.move_to_end(key)
                    return item[0], True
                failure = self._failures.get(key)
                if failure is not None:
                    # A copy: one exception object raised in several threads would pile up
                    # their tracebacks.
                    raise copy.copy(failure).with_traceback(None)
                pending = self._inflight.get(key)
                owner = pending is None
                if owner:
                    pending = Future()
                    self._inflight[key] = pending
            assert pending is not None
            if owner:
                break
            try:
                return pending.result(), False
            except CancelledError:
                continue  # an adopted computation was called off: compute it here
        return self._settle(key, pending, compute, size), False

    def known(self, key: Hashable) -> bool:
        """True when ``key`` is cached, being computed, or remembered as failed."""
        with self._lock:
            return key in self._items or key in self._inflight or key in self._failures

    def adopt(self, key: Hashable, future: Future[V], size: Callable[[V], int]) -> bool:
        """Let a computation started elsewhere (``future``) fill ``key``: until it is done,
        ``get_or_compute(key)`` waits for it. False (and nothing changes) when ``key`` is
        already cached or being computed. A failed computation is not cached."""
        with self._lock:
            if key in self._items or key in self._inflight or key in self._failures:
                return False
            pending: Future[V] = Future()
            self._inflight[key] = pending

        def settle(done: Future[V]) -> None:
            with contextlib.suppress(BaseException):  # the waiters get it through `pending`
                self._settle(key, pending, done.result, size)

        future.add_done_callback(settle)
        return True

    def _settle(
        self, key: Hashable, pending: Future[V], compute: Callable[[], V], size: Callable[[V], int]
    ) -> V:
        """Run ``compute`` for the in-flight ``key``: keep its value, hand value or failure to
        the waiters, and return or raise it."""
        try:
            value = compute()
        except BaseException as exc:
            with self._lock:
                self._inflight.pop(key, None)
                if self._lasting is not None and self._lasting(exc):
                    self._failures[key] = exc
                    while len(self._failures) > self.MAX_FAILURES:
                        self._failures.popitem(last=False)
            pending.set_exception(exc)
            raise
        with self._lock:
            self._inflight.pop(key, None)
            self._store(key, value, size(value))
        pending.set_result(value)
        return value

    def _store(self, key: Hashable, value: V, nbytes: int) -> None:
        if nbytes > self.budget:
            return
        old = self._items.pop(key, None)
        if old is not None:
            self._used -= old[1]
        while self._items and self._used + nbytes > self.budget:
            _, (_, evicted) = self._items.popitem(last=False)
            self._used -= evicted
        self._items[key] = (value, nbytes)
        self._used += nbytes
