"""Where a frame is decoded: in a worker process, in the calling thread, or ahead of time.

The JPEG, JPEG-LS and JPEG 2000 decoders keep the GIL for a whole frame (10 ms for a 512²
JPEG-LS frame, 60 ms for JPEG 2000, over a second for a tomosynthesis frame). In a thread that
froze everything else of the process: the server's event loop, cache hits, the tag panel, the
notebook kernel. In a worker process (:data:`.jobs.POOL`) it freezes nothing, two frames decode
at once on two cores, and a decoder that crashes on damaged data costs one answer (a 422), not
the session.

The first compressed frame starts the pool and is decoded in the calling thread meanwhile (a
worker takes about half a second to import its decoders); until a worker is ready, frames are
decoded in the calling thread. The next frames of a compressed file are decoded ahead: in the
workers, or in one thread for RLE, which is fast enough to stay in this process; the next frame
of an uncompressed multi-frame file is read ahead in that thread too.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor

from .budget import IN_FLIGHT, raw_cost
from .errors import DcmviewError, PixelDecodeFailed
from .jobs import POOL
from .model import FileRecord, RawEntry
from .transfer_syntaxes import GIL_HOLDING_DECODERS, decoder_of

# RLE (~1 ms a frame, less than the trip to a worker and back) stays in the process; its next
# frame is read ahead in a thread instead, while the client is busy with the current one.
_AHEAD_IN_THREAD = frozenset({"pylibjpeg-rle"})
# Uncompressed frames up to this size are read ahead too (a 3000×2500 16-bit frame is 15 MB).
_NATIVE_AHEAD_MAX = 16 * 2**20


def wanted(record: FileRecord) -> bool:
    """True when ``record``'s frames are better decoded in a worker process."""
    layout = record.layout
    if record.remote is not None and record.remote.kind == "dicomweb":
        # The server's transfer syntax is known once a frame of the series was read.
        from .sources import dicomweb_syntax

        syntax = dicomweb_syntax(record)
        return syntax is not None and decoder_of(syntax) in GIL_HOLDING_DECODERS
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
    if layout is None or record.frame_count < 2:
        return 0
    decoder = decoder_of(record.transfer_syntax_uid)
    if decoder in _AHEAD_IN_THREAD:
        return 1
    if (
        decoder == "native"
        and record.pixel_data_offset is not None
        and layout.frame_bytes <= _NATIVE_AHEAD_MAX
    ):
        # Reading an uncompressed frame costs ~0.3 ms, but on the request path it also costs
        # two thread hand-offs, which on a loaded 2-core machine took most of the ~2.5 ms a
        # sequential /raw request took. Read ahead, the next request is a cache hit.
        return 1
    return 0


def raw_entry(record: FileRecord, frame: int) -> RawEntry:
    """Decode ``frame`` here and describe it (``/raw``'s body and what it is)."""
    from .frames import decode_frame
    from .render import raw_frame

    with IN_FLIGHT.reserve(raw_cost(record)):
        return raw_frame(record, decode_frame(record, frame), frame)


def decode(record: FileRecord, frame: int) -> RawEntry:
    """``raw_entry(record, frame)``: in a worker when ``wanted(record)`` and one is ready."""
    if not wanted(record):
        return raw_entry(record, frame)
    with IN_FLIGHT.reserve(raw_cost(record, in_worker=True)):
        future = POOL.submit("frame", record, frame)
        if future is not None:
            return result(future, frame)
        try:
            return raw_entry(record, frame)
        finally:
            POOL.start()


def submit(record: FileRecord, frame: int) -> Future[RawEntry] | None:
    """Start decoding ``frame`` ahead, in a worker or the read-ahead thread; None when there
    is nothing to do it (see :func:`read_ahead_depth`) or no worker is ready yet.

    The future fails only with a DcmviewError (or is cancelled when the session ends).
    """
    if wanted(record):
        return POOL.submit("frame", record, frame)
    if read_ahead_depth(record):
        return _AHEAD.submit(record, frame)
    return None


def result(future: Future[RawEntry], frame: int) -> RawEntry:
    """Wait for a decode started by :func:`submit` or in a worker."""
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


def prepare(records: Iterable[FileRecord]) -> None:
    """Start the read-ahead thread when one of ``records`` will use it: on a fresh server its
    start (~0.3-2 ms on a loaded machine) held up the first frame's answer."""
    if any(read_ahead_depth(r) and not wanted(r) for r in records):
        _AHEAD.start()


def shutdown() -> None:
    """Stop the workers and the read-ahead thread now (they start again when needed)."""
    POOL.shutdown()
    _AHEAD.shutdown()


class _AheadThread:
    """One thread for reading ahead frames that decode fast in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    def submit(self, record: FileRecord, frame: int) -> Future[RawEntry]:
        with self._lock:
            return self._started().submit(raw_entry, record, frame)

    def start(self) -> None:
        """Start the thread now (its first task would otherwise wait for it to start)."""
        with self._lock:
            if self._executor is None:
                self._started().submit(int)

    def _started(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="dcmview-ahead")
        return self._executor

    def shutdown(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


_AHEAD = _AheadThread()
