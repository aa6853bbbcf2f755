"""Where each compressed frame of a file lies, indexed once, and one frame decoded from it.

pydicom's ``pixel_array(path, index=i)`` re-reads the header and walks the fragments from the
start for every frame it is asked for; for a 100-frame RLE or JPEG-LS file that was half the time
of a frame. Here a file's fragments are indexed once (kept in a small LRU), a frame's bytes are
read with one seek, and pydicom decodes them as a one-frame buffer with the file's own Image
Pixel values, so every conversion it applies after decoding (YBR to RGB, sign correction, the
container size of the codestream's precision) stays pydicom's.

pydicom is imported where it is used: an uncompressed frame needs none of it (its import costs
~0.25 s, which the first frame of a fresh server should not wait for).
"""

from __future__ import annotations

import itertools
import struct
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np

from .fileio import open_record
from .model import FileRecord

_ITEM = 0xE000FFFE  # (FFFE,E000) read as one little-endian uint32
_SEQUENCE_END = 0xE0DDFFFE  # (FFFE,E0DD)
_HEADER = struct.Struct("<II")
# Image Pixel elements the decoder needs; nothing else of the header is read for decoding.
_PIXEL_TAGS = [
    0x00280002, 0x00280004, 0x00280006, 0x00280008, 0x00280010, 0x00280011,
    0x00280100, 0x00280101, 0x00280102, 0x00280103,
]  # fmt: skip
# Files whose index is kept: an index is a few bytes per frame.
_KEEP = 256


@dataclass(frozen=True)
class FrameIndex:
    """One file's decoding options and, when the fragments map to frames unambiguously, the
    ``(offset, length)`` of each frame's fragments (``None``: ask pydicom's frame finder)."""

    options: dict[str, Any]
    frames: tuple[tuple[tuple[int, int], ...], ...] | None
    # True when each frame's one ``(offset, length)`` spans its items (headers included), as
    # the Basic Offset Table gives it: a remote frame is then one ranged read.
    regions: bool = False


class _Indexes:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[str, int], FrameIndex] = OrderedDict()

    def get(self, record: FileRecord, fp: BinaryIO) -> FrameIndex:
        assert record.pixel_data_offset is not None
        key = (record.path, record.pixel_data_offset)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        index = _build_remote_index(record, fp) if record.remote else _build_index(record, fp)
        with self._lock:
            self._items[key] = index
            while len(self._items) > _KEEP:
                self._items.popitem(last=False)
        return index


_INDEXES = _Indexes()


def frame_index(record: FileRecord) -> FrameIndex:
    """The (cached) index of ``record``'s compressed frames."""
    with open_record(record) as fp:
        return _INDEXES.get(record, fp)


def frame_bytes(record: FileRecord, frame: int, fp: BinaryIO) -> bytes:
    """The encoded bytes of ``frame`` (its fragments joined), read from ``fp``, ``record``'s
    file open (see :func:`.fileio.open_record`)."""
    index = _INDEXES.get(record, fp)
    assert record.pixel_data_offset is not None and record.layout is not None
    if index.frames is None:
        from pydicom.encaps import get_frame

        fp.seek(record.pixel_data_offset)
        return get_frame(
            fp,
            frame,
            number_of_frames=record.layout.frame_count,
            extended_offsets=record.extended_offsets,
        )
    parts = []
    for offset, length in index.frames[frame]:
        fp.seek(offset)
        part = fp.read(length)
        if len(part) != length:
            raise ValueError(f"frame {frame} is cut short: the file ends inside it")
        parts.append(part)
    if index.regions:
        parts = _items(parts[0], frame)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _items(region: bytes, frame: int) -> list[bytes]:
    """The fragments of one frame's region (its items, up to the sequence's end)."""
    parts, at = [], 0
    while at + 8 <= len(region):
        tag, length = _HEADER.unpack_from(region, at)
        if tag == _SEQUENCE_END:
            break
        if tag != _ITEM or at + 8 + length > len(region):
            raise ValueError(f"frame {frame} does not start where the offset table says")
        parts.append(region[at + 8 : at + 8 + length])
        at += 8 + length
    if not parts:
        raise ValueError(f"frame {frame} has no fragment")
    return parts


def decode(record: FileRecord, data: bytes, plugin: str, fp: BinaryIO, **extra: Any) -> np.ndarray:
    """Decode one frame's encoded ``data`` as pydicom would decode it in its file (``fp``);
    ``extra``: decoding options of pydicom's to add."""
    known = _layout_options(record) if record.remote else _INDEXES.get(record, fp).options
    options = {**known, "number_of_frames": 1, **extra}
    length = len(data) + (len(data) & 1)
    buffer = b"".join(
        (
            _HEADER.pack(_ITEM, 0),  # an empty Basic Offset Table
            _HEADER.pack(_ITEM, length),
            data,
            b"\x00" * (length - len(data)),
        )
    )
    from pydicom.pixels import get_decoder

    decoder = get_decoder(record.transfer_syntax_uid)
    array, _ = decoder.as_array(
        buffer, index=0, validate=True, raw=False, decoding_plugin=plugin, **options
    )
    return array


def _build_index(record: FileRecord, fp: BinaryIO) -> FrameIndex:
    import pydicom
    from pydicom.pixels.utils import as_pixel_options
    from pydicom.uid import UID

    fp.seek(0)
    ds = pydicom.dcmread(fp, stop_before_pixels=True, specific_tags=_PIXEL_TAGS)
    options = as_pixel_options(ds)
    options.pop("extended_offsets", None)
    options["transfer_syntax_uid"] = UID(record.transfer_syntax_uid)
    assert record.layout is not None and record.pixel_data_offset is not None
    frames = None
    if record.extended_offsets is None:
        frames = _map_fragments(fp, record.pixel_data_offset, record.layout.frame_count)
    return FrameIndex(options, frames)


def _layout_options(record: FileRecord) -> dict[str, Any]:
    """The decoding options of a remote file, from what discovery read of its header (reading
    its header again would cost requests)."""
    import pydicom
    from pydicom.pixels.utils import as_pixel_options
    from pydicom.uid import UID

    layout = record.layout
    assert layout is not None
    ds = pydicom.Dataset()
    ds.Rows, ds.Columns = layout.rows, layout.columns
    ds.SamplesPerPixel = layout.samples_per_pixel
    ds.PhotometricInterpretation = layout.photometric
    ds.BitsAllocated, ds.BitsStored = layout.bits_allocated, layout.bits_stored
    ds.PixelRepresentation = layout.pixel_representation
    ds.NumberOfFrames = layout.frame_count
    if layout.samples_per_pixel > 1:
        ds.PlanarConfiguration = layout.planar_configuration
    options = as_pixel_options(ds)
    options["transfer_syntax_uid"] = UID(record.transfer_syntax_uid)
    return options


def _build_remote_index(record: FileRecord, fp: BinaryIO) -> FrameIndex:
    """A remote file's index: each frame's region from the Basic Offset Table (read once,
    with the table's few bytes), else its fragments walked (a read per fragment, once)."""
    assert record.layout is not None and record.pixel_data_offset is not None
    options = _layout_options(record)
    if record.extended_offsets is not None:
        return FrameIndex(options, None)
    offset, count = record.pixel_data_offset, record.layout.frame_count
    fp.seek(offset)
    head = fp.read(8)
    if len(head) == 8:
        tag, length = _HEADER.unpack(head)
        if tag == _ITEM and length and length % 4 == 0 and length // 4 == count:
            table = np.frombuffer(fp.read(length), dtype="<u4").tolist()
            first = offset + 8 + length
            end = offset + (record.pixel_data_length or 0)
            bounds = [first + start for start in table] + [end]
            if table[0] == 0 and all(a < b for a, b in itertools.pairwise(bounds)):
                regions = tuple(((bounds[i], bounds[i + 1] - bounds[i]),) for i in range(count))
                return FrameIndex(options, regions, regions=True)
    return FrameIndex(options, _map_fragments(fp, offset, count))


def _map_fragments(
    fp: BinaryIO, offset: int, frame_count: int
) -> tuple[tuple[tuple[int, int], ...], ...] | None:
    """Each frame's fragments, from the Basic Offset Table or from one fragment per frame;
    None when only the codestreams themselves could tell (pydicom's frame finder does that)."""
    fp.seek(offset)
    head = fp.read(8)
    if len(head) != 8:
        return None
    tag, length = _HEADER.unpack(head)
    if tag != _ITEM or length % 4:
        return None
    table = np.frombuffer(fp.read(length), dtype="<u4").tolist()
    first = fp.tell()
    items: list[tuple[int, int, int]] = []  # (offset from the first item, data at, length)
    while True:
        head = fp.read(8)
        if len(head) != 8:
            return None
        tag, length = _HEADER.unpack(head)
        if tag == _SEQUENCE_END:
            break
        if tag != _ITEM or length == 0xFFFFFFFF:
            return None
        at = fp.tell()
        items.append((at - 8 - first, at, length))
        fp.seek(length, 1)
    if not items:
        return None
    if table:
        if len(table) != frame_count or table[0] != 0 or table != sorted(set(table)):
            return None
        starts = {item[0]: i for i, item in enumerate(items)}
        if any(start not in starts for start in table):
            return None
        bounds = [starts[start] for start in table] + [len(items)]
        groups = [items[bounds[i] : bounds[i + 1]] for i in range(frame_count)]
    elif len(items) == frame_count:
        groups = [[item] for item in items]
    elif frame_count == 1:
        groups = [items]
    else:
        return None
    return tuple(tuple((at, length) for _, at, length in group) for group in groups)
