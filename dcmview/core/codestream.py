"""The size a compressed frame declares for itself, read from its header without decoding it.

Decoders size their buffers from the codestream (the JPEG frame header, the JPEG 2000 SIZ
marker), not from the DICOM Rows and Columns: a file of a few KiB can ask a decoder for gigabytes,
and a malformed JP2 box makes pydicom's own header parser loop forever. :func:`declared_shape`
walks only the marker segments and boxes, with every step bounded, so a frame can be refused
before any decoder sees it. :func:`j2k_facts` reads a little more of a JPEG 2000 main header:
what a reduced-resolution decode needs to know.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

# Start-of-frame markers: JPEG SOF0-SOF15 except DHT (C4), JPG (C8) and DAC (CC); JPEG-LS SOF55.
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC} | {0xF7}
# Markers without a length field: TEM and RST0-7 (SOI/EOI are handled apart).
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_J2K_SOC_SIZ = b"\xff\x4f\xff\x51"
_JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  \r\n\x87\n"


def declared_shape(data: bytes) -> tuple[int, int] | None:
    """``(rows, columns)`` that a JPEG, JPEG-LS, JPEG 2000 or HTJ2K frame declares.

    ``data`` is one whole encoded frame. Returns None when it holds no such header (or one cut
    short), which no decoder of those formats can decode either.
    """
    if data.startswith(b"\xff\xd8"):
        return _jpeg_shape(data)
    if data.startswith(_J2K_SOC_SIZ):
        return _siz_shape(data, 0)
    if data.startswith(_JP2_SIGNATURE):
        start = _jp2_codestream(data)
        return _siz_shape(data, start) if start is not None else None
    return None


def _jpeg_shape(data: bytes) -> tuple[int, int] | None:
    """The frame header (SOFn) size; the walk ends at the first scan, where it must be known."""
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in _STANDALONE:
            at += 2
            continue
        if marker in (0xD8, 0xD9, 0xDA):  # SOI again, EOI or a scan before any frame header
            return None
        (length,) = struct.unpack_from(">H", data, at + 2)
        if marker in _SOF_MARKERS:
            if length < 8 or at + 9 > len(data):
                return None
            rows, columns = struct.unpack_from(">HH", data, at + 5)
            return rows, columns
        if length < 2:
            return None
        at += 2 + length
    return None


def _siz_shape(data: bytes, start: int) -> tuple[int, int] | None:
    """Image size from the SIZ segment that follows SOC at ``start`` (ISO/IEC 15444-1 A.5.1)."""
    if data[start : start + 4] != _J2K_SOC_SIZ or start + 24 > len(data):
        return None
    x_size, y_size, x_offset, y_offset = struct.unpack_from(">IIII", data, start + 8)
    if x_offset > x_size or y_offset > y_size:
        return None
    return y_size - y_offset, x_size - x_offset


def _jp2_codestream(data: bytes) -> int | None:
    """Offset of the contiguous codestream box (``jp2c``) of a JP2 file, walking its boxes."""
    at = 0
    while at + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, at)
        header = 8
        if length == 1:  # a 64-bit length follows the type
            if at + 16 > len(data):
                return None
            (length,) = struct.unpack_from(">Q", data, at + 8)
            header = 16
        elif length == 0:  # the box runs to the end of the data
            length = len(data) - at
        if kind == b"jp2c":
            return at + header
        if length < header:
            return None
        at += length
    return None


@dataclass(frozen=True)
class J2kFacts:
    """What a JPEG 2000 (or HTJ2K) codestream's main header says, as far as a reduced decode
    needs it: the size, the components, the first component's precision and sign, and how many
    resolution levels below the full one it holds (COD's decomposition levels)."""

    rows: int
    columns: int
    components: int
    precision: int
    signed: bool
    levels: int


def j2k_facts(data: bytes) -> J2kFacts | None:
    """The main header facts of a JPEG 2000 codestream (or JP2 file), or None when ``data``
    is not one or its header is cut short or inconsistent."""
    start = 0
    if data.startswith(_JP2_SIGNATURE):
        found = _jp2_codestream(data)
        if found is None:
            return None
        start = found
    shape = _siz_shape(data, start)
    if shape is None or start + 45 > len(data):
        return None
    (siz_length,) = struct.unpack_from(">H", data, start + 4)
    (components,) = struct.unpack_from(">H", data, start + 40)
    if components < 1 or siz_length != 38 + 3 * components:
        return None
    ssiz = data[start + 42]
    at = start + 4 + siz_length
    while at + 4 <= len(data):  # the main header's marker segments, up to the first tile
        marker, length = struct.unpack_from(">HH", data, at)
        if marker in (0xFF90, 0xFF93) or length < 2:  # SOT, SOD: no COD in the main header
            return None
        if marker == 0xFF52:  # COD: Scod, SGcod (4 bytes), then SPcod's decomposition levels
            if length < 12 or at + 9 >= len(data):
                return None
            return J2kFacts(
                rows=shape[0],
                columns=shape[1],
                components=components,
                precision=(ssiz & 0x7F) + 1,
                signed=bool(ssiz & 0x80),
                levels=data[at + 9],
            )
        at += 2 + length
    return None
