"""Give memory freed by frame work back to the operating system (glibc's malloc), and keep
the cycle collector out of a scan.

glibc serves a large allocation (above 128 KiB) with its own memory map, unmapped when freed,
but after the first such free it raises that threshold to the freed size: from then on
frame-sized buffers (a 512² 16-bit frame is 512 KiB) come from the heap arenas of the decoding
threads, and what they free stays in the process. With ``--cache-budget 64MiB`` the server
settled ~60 MiB above its after-scan size plus its budget (bench/cache_memory.py). Fixing the
threshold instead made every such buffer a fresh mapping: RLE frames decoded 2-3x slower.
``malloc_trim`` returns the free pages in ~3 ms; :mod:`.budget` calls it when frame work
goes quiet.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import sys
import threading
from collections.abc import Callable, Iterator


def _trimmer() -> Callable[[], object] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim  # glibc only (musl has none)
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return lambda: trim(0)


_TRIM = _trimmer()


def release_free_memory() -> bool:
    """Return the allocator's free pages to the system; False where that is not possible."""
    if _TRIM is None:
        return False
    _TRIM()  # ctypes releases the GIL for the call
    return True


class _CollectorPause:
    """Python's cycle collector paused while a scan allocates: every 700 new containers it
    looked at the young ones, and the scan's records (kept, never cyclic garbage) made its
    full passes longer as they grew; 10,000 files scanned ~20 % faster without it. Pauses
    nest and overlap (sessions scanning at once, in a notebook); the collector runs again
    when the last one ends, if it ran before the first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self._was_enabled = False

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._count == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._count += 1
        try:
            yield
        finally:
            with self._lock:
                self._count -= 1
                if self._count == 0 and self._was_enabled:
                    gc.enable()


collector_paused = _CollectorPause()
