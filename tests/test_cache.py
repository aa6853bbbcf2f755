"""The byte-budgeted LRU: budget, eviction order, shared in-flight work, failures."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future

import pytest

from dcmview.core.cache import ByteLRU


def test_budget_is_never_exceeded_and_oldest_go_first() -> None:
    cache: ByteLRU[bytes] = ByteLRU(100)
    for key in range(10):
        cache.get_or_compute(key, lambda: b"x" * 30, len)
        assert cache.used <= 100
    assert len(cache) == 3
    _, hit = cache.get_or_compute(9, lambda: b"", len)
    assert hit
    _, hit = cache.get_or_compute(0, lambda: b"y" * 30, len)
    assert not hit


def test_recently_used_entries_survive_eviction() -> None:
    cache: ByteLRU[bytes] = ByteLRU(90)
    for key in "abc":
        cache.get_or_compute(key, lambda: b"x" * 30, len)
    cache.get_or_compute("a", lambda: b"", len)  # touch a
    cache.get_or_compute("d", lambda: b"x" * 30, len)  # evicts b, the least recent
    assert cache.get_or_compute("a", lambda: b"new", len)[1]
    assert not cache.get_or_compute("b", lambda: b"x" * 30, len)[1]


def test_values_larger_than_the_budget_are_returned_not_kept() -> None:
    cache: ByteLRU[bytes] = ByteLRU(10)
    value, hit = cache.get_or_compute("big", lambda: b"z" * 11, len)
    assert value == b"z" * 11 and not hit and cache.used == 0


def test_concurrent_misses_share_one_computation() -> None:
    cache: ByteLRU[bytes] = ByteLRU(1000)
    calls = []
    gate = threading.Event()

    def compute() -> bytes:
        calls.append(1)
        gate.wait(5)
        return b"frame"

    results: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get_or_compute("k", compute, len)[0]))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    time.sleep(0.2)
    gate.set()
    for t in threads:
        t.join(5)
    assert calls == [1] and results == [b"frame"] * 8


def test_a_failed_computation_is_not_cached_and_reaches_waiters() -> None:
    cache: ByteLRU[bytes] = ByteLRU(100)

    def fail() -> bytes:
        raise ValueError("broken frame")

    with pytest.raises(ValueError, match="broken frame"):
        cache.get_or_compute("k", fail, len)
    assert cache.get_or_compute("k", lambda: b"ok", len) == (b"ok", False)


def test_an_adopted_computation_fills_the_key_and_waiters_share_it() -> None:
    cache: ByteLRU[bytes] = ByteLRU(1000)
    started: Future[bytes] = Future()
    assert cache.adopt("k", started, len)
    assert cache.known("k") and not cache.adopt("k", Future(), len)
    results: list[tuple[bytes, bool]] = []
    waiter = threading.Thread(
        target=lambda: results.append(cache.get_or_compute("k", lambda: b"own", len))
    )
    waiter.start()
    started.set_result(b"ahead")
    waiter.join(5)
    assert results == [(b"ahead", False)]
    assert cache.get_or_compute("k", lambda: b"own", len) == (b"ahead", True)


def test_a_failed_adopted_computation_is_not_kept() -> None:
    cache: ByteLRU[bytes] = ByteLRU(1000)
    started: Future[bytes] = Future()
    cache.adopt("k", started, len)
    started.set_exception(ValueError("broken frame"))
    assert not cache.known("k")
    assert cache.get_or_compute("k", lambda: b"again", len) == (b"again", False)


def test_waiters_compute_themselves_when_an_adopted_computation_is_called_off() -> None:
    cache: ByteLRU[bytes] = ByteLRU(1000)
    started: Future[bytes] = Future()
    cache.adopt("k", started, len)
    results: list[tuple[bytes, bool]] = []
    waiter = threading.Thread(
        target=lambda: results.append(cache.get_or_compute("k", lambda: b"own", len))
    )
    waiter.start()
    time.sleep(0.05)
    assert started.cancel()
    waiter.join(5)
    assert results == [(b"own", False)]
