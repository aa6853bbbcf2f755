"""Large JSON texts kept deflated in memory, ready to be served gzipped or plain.

A session publishes its file and series lists once. Kept as text, 100,000 files were ~80 MB
of JSON held for the session's whole life; deflated they are ~6 MB. The deflate stream is
ended by a full flush instead of a final block, so an answer appends its own small, changing
end (the scan counters) and becomes one gzip member without compressing the list again; a
client that does not take gzip gets the text inflated for its answer only.
"""

from __future__ import annotations

import struct
import types
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

# A gzip member header: magic, deflate, no flags, no time, no extra flags, unknown OS.
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
# Level 1: the lists are mostly repeated keys and UIDs (measured ~13:1 at level 1, ~15:1 at 6,
# for four times the time). ISA-L's level 1 (a dependency, as for PNGs) deflated the 410 KB
# file list of 500 files in 0.3 ms (zlib's: 2 ms) and ~20 % smaller; zlib reads its stream.
_LEVEL = 1
_deflate: types.ModuleType
try:
    from isal import isal_zlib as _deflate
except ImportError:  # a platform without an isal wheel
    _deflate = zlib


@dataclass(frozen=True)
class Packed:
    """The start of a text: deflated (no final block), its CRC-32 and its length in bytes."""

    deflated: bytes
    crc: int
    size: int

    @classmethod
    def of(cls, parts: Iterable[bytes]) -> Packed:
        """Deflate the text made of ``parts`` so that more can follow it (the whole text is
        never held at once)."""
        compressor = _deflate.compressobj(_LEVEL, _deflate.DEFLATED, -15)
        out, crc, size = [], 0, 0
        for part in parts:
            out.append(compressor.compress(part))
            crc = zlib.crc32(part, crc)
            size += len(part)
        out.append(compressor.flush(_deflate.Z_FULL_FLUSH))
        return cls(b"".join(out), crc, size)

    def text(self, end: bytes = b"") -> bytes:
        """The text, followed by ``end``."""
        return zlib.decompressobj(-15).decompress(self.deflated) + end

    def gzip(self, end: bytes = b"") -> bytes:
        """One gzip member holding the text followed by ``end`` (only ``end`` is compressed
        here)."""
        compressor = zlib.compressobj(_LEVEL, zlib.DEFLATED, -15)
        last = compressor.compress(end) + compressor.flush(zlib.Z_FINISH)
        trailer = struct.pack("<II", zlib.crc32(end, self.crc), (self.size + len(end)) & 0xFFFFFFFF)
        return b"".join((_GZIP_HEADER, self.deflated, last, trailer))
