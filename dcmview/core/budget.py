"""Memory a frame costs on its way out, checked before the work and bounded while it runs.

The 512 MiB frame limit (:data:`.frames.MAX_FRAME_BYTES`) bounds what a header may declare, but
a frame's trip through the server takes more than the frame: the decoder's array and its
little-endian copy for ``/raw``; for a display PNG, the 8-bit image, the PNG, and whole-frame
modality values when a LUT rules out the block-wise path. An 8 MiB RLE file declaring a 16384²
frame cost 3.9 GiB for one PNG, and two at once 6.6 GiB. Here:

- :func:`raw_cost` and :func:`display_cost` estimate that cost from the header (decoders
  themselves take several times the frame); :func:`check_raw` and :func:`check_display`
  refuse work whose cost is above :data:`MAX_PIPELINE_BYTES` (a 422 before anything is
  decoded; ``/raw`` of a frame whose PNG is refused may still answer);
- :data:`IN_FLIGHT` is one byte semaphore shared by the threads of a process: work that would
  take the bytes in flight above its capacity waits until others are done (a single piece of
  work larger than the capacity runs alone).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .allocator import release_free_memory
from .errors import FrameTooLarge
from .model import FileRecord, PixelLayout
from .transfer_syntaxes import decoder_of, syntax_name
from .windowing import BLOCK_PIXELS

MIB = 1024 * 1024
# The most one frame's raw or display work may need: what the original program needs at most
# for one frame (~1.05 GiB). An uncompressed 16384² 16-bit frame fits (1 GiB for /raw), an
# RLE one of 8192² does (704 MiB), an RLE or JPEG 2000 one of 16384² does not (~3 GiB).
MAX_PIPELINE_BYTES = 1088 * MIB
# Bytes of decodes and display images in flight at once in one process.
IN_FLIGHT_BYTES = 1024 * MIB
# Temporaries of the block-wise passes (float32 modality values, int64 LUT indices, bincount).
_BLOCK_BYTES = BLOCK_PIXELS * 16


# Peak memory of decoding one frame and making its /raw bytes, in frames: measured (VmHWM, one
# process) on 6144² 16-bit frames: native 2.0, RLE 5.1, JPEG-LS 4.2, JPEG 2000 6.0, HTJ2K 6.1;
# JPEG baseline 5.1 on a 32768 x 16384 8-bit frame. Decoders allocate what they need inside.
_DECODE_FACTOR = {
    "native": 2.0,
    "pylibjpeg-rle": 5.5,
    "pyjpegls": 4.5,
    "pylibjpeg-libjpeg": 5.5,
    "pylibjpeg-openjpeg": 6.5,
}
# A frame decoded in a worker process: one more copy there (the pickled reply) and two in the
# server (the reply read, and unpickled).
_WORKER_COPIES = 3


def raw_cost(record: FileRecord, in_worker: bool = False) -> int:
    """Bytes ``/raw`` of one frame takes at its peak, over every process involved."""
    if record.layout is None:
        return 0
    factor = _DECODE_FACTOR.get(decoder_of(record.transfer_syntax_uid) or "", 6.5)
    return int((factor + (_WORKER_COPIES if in_worker else 0)) * record.layout.frame_bytes)


def check_raw(record: FileRecord, in_worker: bool) -> None:
    """Raise FrameTooLarge when decoding one of ``record``'s frames would need more than
    :data:`MAX_PIPELINE_BYTES` (a decompression bomb inside the frame limit)."""
    needed = raw_cost(record, in_worker)
    if needed > MAX_PIPELINE_BYTES and record.layout is not None:
        layout = record.layout
        syntax = syntax_name(record.transfer_syntax_uid)
        raise FrameTooLarge(
            f"decoding this {layout.rows}x{layout.columns} {syntax} frame would need about "
            f"{needed // MIB} MiB of memory, above the "
            f"{MAX_PIPELINE_BYTES // MIB} MiB limit"
        )


def display_cost(record: FileRecord) -> int:
    """Bytes a display PNG of one frame takes at its peak, beyond the decoded frame itself."""
    return _display_bytes(record.layout) if record.layout is not None else 0


def _display_bytes(layout: PixelLayout) -> int:
    pixels = layout.rows * layout.columns
    if layout.photometric == "PALETTE COLOR":
        # pydicom's RGB (16 bits a sample), its 32-bit shifted copy, the 8-bit image, the PNG.
        return pixels * (6 + 12 + 3 + 3)
    if layout.samples_per_pixel > 1:
        eight_bit = 0 if layout.bits_allocated == 8 else 3 * pixels
        return eight_bit + 3 * pixels + _BLOCK_BYTES
    whole_frame = 0
    if layout.has_modality_lut or layout.bits_allocated > 16:
        # No histogram of stored values then: the percentile window reads float32 modality
        # values of the whole frame, and numpy's percentile partitions a copy of them.
        whole_frame = 9 * pixels
    return 2 * pixels + whole_frame + _BLOCK_BYTES


def check_display(record: FileRecord) -> None:
    """Raise FrameTooLarge when a display PNG of ``record``'s frames would need more than
    :data:`MAX_PIPELINE_BYTES` (a decompression bomb inside the frame limit)."""
    layout = record.layout
    if layout is None:
        return
    needed = layout.frame_bytes + _display_bytes(layout)
    if needed > MAX_PIPELINE_BYTES:
        raise FrameTooLarge(
            f"a display image of this {layout.rows}x{layout.columns} "
            f"{layout.photometric} frame would need {needed // MIB} MiB of memory, above the "
            f"{MAX_PIPELINE_BYTES // MIB} MiB limit; its samples can still be read "
            f"(/raw) when they fit"
        )


class ByteBudget:
    """A semaphore counted in bytes: :meth:`reserve` waits while the bytes reserved by other
    threads and this reservation would exceed ``capacity``. A thread's nested reservations
    are covered by its outermost one.

    When nothing is reserved any more and at least ``quiet_after`` bytes were reserved since it
    last ran, ``on_quiet`` runs (in the thread that released last, after releasing).
    """

    def __init__(
        self,
        capacity: int,
        on_quiet: Callable[[], object] | None = None,
        quiet_after: int = 0,
    ) -> None:
        self.capacity = capacity
        self._on_quiet = on_quiet
        self._quiet_after = quiet_after
        self._since_quiet = 0
        self._used = 0
        self._waiting = 0
        self._changed = threading.Condition()
        self._mine = threading.local()

    @property
    def used(self) -> int:
        """Bytes reserved now."""
        with self._changed:
            return self._used

    @property
    def waiting(self) -> int:
        """Threads waiting for bytes now."""
        with self._changed:
            return self._waiting

    @contextmanager
    def reserve(self, nbytes: int) -> Iterator[None]:
        """Hold ``nbytes`` of the budget for the ``with`` block."""
        if getattr(self._mine, "held", False):
            yield
            return
        with self._changed:
            self._waiting += 1
            try:
                while self._used and self._used + nbytes > self.capacity:
                    self._changed.wait()
            finally:
                self._waiting -= 1
            self._used += nbytes
        self._mine.held = True
        try:
            yield
        finally:
            self._mine.held = False
            with self._changed:
                self._used -= nbytes
                self._since_quiet += nbytes
                quiet = not self._used and self._since_quiet >= self._quiet_after
                if quiet:
                    self._since_quiet = 0
                self._changed.notify_all()
            if quiet and self._on_quiet is not None:
                self._on_quiet()


# Decodes and display images in flight in this process. When they go quiet after 64 MiB of
# work, the memory they freed goes back to the system (else it stays, outside every budget).
IN_FLIGHT = ByteBudget(IN_FLIGHT_BYTES, release_free_memory, quiet_after=64 * MIB)
