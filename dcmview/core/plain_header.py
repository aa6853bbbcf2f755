"""Plain headers read without pydicom: the start-up scan's own reader.

Importing pydicom costs ~0.2–0.3 s (it lists every installed package's entry points three
times, and imports ``requests``); walking a header element by element in Python costs
~35 µs for 50 elements. A folder of 500 slices was read in ~0.25 s that way, the original
program in ~20 ms. This module reads what the scan needs from the bytes of a header, with no
pydicom at all, and hands anything else over to the pydicom-based reader
(:mod:`.header_reader`): never a wrong answer, only a slower one.

What it reads: explicit and implicit VR little endian (not deflated, not big endian); elements
at the top level, sequences skipped by length or walked item by item to their delimiter; the
values the scan reads (:data:`KEYWORDS`) when they are ASCII text or binary integers. What it
hands over (:class:`HandOver`): any other syntax or structure, a value it cannot read plainly,
and files whose record needs pydicom (functional groups, shutters, overlays, layer objects,
extended offset tables).

The files of a series are written alike: the same elements with the same lengths, so the same
positions. A file whose every element header (tag, VR, length; and the transfer syntax) sits
at the positions the previous file's walk visited, with the same bytes, is walked the same way:
that is checked with one C-level comparison (``itemgetter`` over those byte ranges) and the
walk is skipped. Its values are then read at the known positions.
"""

from __future__ import annotations

import operator
import os
import stat
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from .fileio import NotRegularFile, kind_of

# A scan's first read of a file: 4 KiB, or the pages its last header took (a series' headers
# are alike); reading 16 KiB every time cost ~2 µs a file more.
FIRST_READ = 4096
LARGEST_FIRST_READ = 65536
LARGEST_HEADER = 1 << 20  # a longer header goes to the pydicom-based reader

NO_PREFIX = "not a DICOM file (no DICM prefix)"
PIXEL_TAGS = frozenset({0x7FE00010, 0x7FE00008, 0x7FE00009})
IMPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2"

# Keyword -> (tag, VR of the DICOM dictionary) of every value the scan reads (PS3.6; the table
# is checked against pydicom's dictionary by tests/test_plain_header.py).
KEYWORDS: dict[str, tuple[int, str]] = {
    "MediaStorageSOPClassUID": (0x00020002, "UI"),
    "TransferSyntaxUID": (0x00020010, "UI"),
    "SpecificCharacterSet": (0x00080005, "CS"),
    "SOPClassUID": (0x00080016, "UI"),
    "SOPInstanceUID": (0x00080018, "UI"),
    "StudyDate": (0x00080020, "DA"),
    "AccessionNumber": (0x00080050, "SH"),
    "Modality": (0x00080060, "CS"),
    "InstitutionName": (0x00080080, "LO"),
    "ReferringPhysicianName": (0x00080090, "PN"),
    "StudyDescription": (0x00081030, "LO"),
    "SeriesDescription": (0x0008103E, "LO"),
    "PatientName": (0x00100010, "PN"),
    "PatientID": (0x00100020, "LO"),
    "PatientBirthDate": (0x00100030, "DA"),
    "OtherPatientIDs": (0x00101000, "LO"),
    "OtherPatientNames": (0x00101001, "PN"),
    "PatientBirthName": (0x00101005, "PN"),
    "PatientMotherBirthName": (0x00101060, "PN"),
    "ImagerPixelSpacing": (0x00181164, "DS"),
    "ShutterShape": (0x00181600, "CS"),
    "StudyInstanceUID": (0x0020000D, "UI"),
    "SeriesInstanceUID": (0x0020000E, "UI"),
    "SeriesNumber": (0x00200011, "IS"),
    "InstanceNumber": (0x00200013, "IS"),
    "ImagePositionPatient": (0x00200032, "DS"),
    "ImageOrientationPatient": (0x00200037, "DS"),
    "FrameOfReferenceUID": (0x00200052, "UI"),
    "SamplesPerPixel": (0x00280002, "US"),
    "PhotometricInterpretation": (0x00280004, "CS"),
    "PlanarConfiguration": (0x00280006, "US"),
    "NumberOfFrames": (0x00280008, "IS"),
    "Rows": (0x00280010, "US"),
    "Columns": (0x00280011, "US"),
    "PixelSpacing": (0x00280030, "DS"),
    "BitsAllocated": (0x00280100, "US"),
    "BitsStored": (0x00280101, "US"),
    "PixelRepresentation": (0x00280103, "US"),
    "PixelPaddingValue": (0x00280120, "US or SS"),
    "PixelPaddingRangeLimit": (0x00280121, "US or SS"),
    "BurnedInAnnotation": (0x00280301, "CS"),
    "WindowCenter": (0x00281050, "DS"),
    "WindowWidth": (0x00281051, "DS"),
    "RescaleIntercept": (0x00281052, "DS"),
    "RescaleSlope": (0x00281053, "DS"),
    "ModalityLUTSequence": (0x00283000, "SQ"),
    "VOILUTSequence": (0x00283010, "SQ"),
    "SharedFunctionalGroupsSequence": (0x52009229, "SQ"),
    "PerFrameFunctionalGroupsSequence": (0x52009230, "SQ"),
    "ExtendedOffsetTable": (0x7FE00001, "OV"),
}
# Top-level elements whose record the pydicom-based reader makes: functional groups (per-frame
# geometry, shutters), display shutters and extended offset tables.
_NEEDS_PYDICOM = frozenset(
    KEYWORDS[k][0]
    for k in (
        "ShutterShape",
        "SharedFunctionalGroupsSequence",
        "PerFrameFunctionalGroupsSequence",
        "ExtendedOffsetTable",
    )
)
# Groups 60xx (even): overlay planes, read as layers (layers/detect.py).
_OVERLAY_MASK, _OVERLAY_GROUPS = 0xFF01, 0x6000

# PS3.5 Table 6.2-1; those with a 4-byte length after two reserved bytes (PS3.5 7.1.2).
VRS = frozenset(
    b"AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN "
    b"UR US UT UV".split()
)
LONG_VRS = frozenset(b"OB OD OF OL OV OW SQ SV UC UN UR UT UV".split())
# What header_values.header_value reads from the bytes (the rest goes through pydicom), and
# the value pydicom gives an element of length 0 of each VR.
_TEXT_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "PN", "SH", "TM", "UI"})
_INTS = {"US": struct.Struct("<H"), "SS": struct.Struct("<h")}
_INTS.update(UL=struct.Struct("<I"), SL=struct.Struct("<i"))
_EMPTY_TEXT_VRS = frozenset({"AE", "AS", "CS", "DA", "DT", "LO", "PN", "SH", "TM", "UI"})
# Non-ASCII text is decoded here for the names and descriptions (PN, LO, SH) of a Specific
# Character Set without code extensions, with pydicom's codecs (tests check the table against
# pydicom's); other character sets hand over. Without one, pydicom decodes as ISO 8859-1.
_DECODED_VRS = frozenset({"PN", "LO", "SH"})
CHARSETS = {
    "ISO_IR 192": "UTF8",
    "ISO_IR 100": "latin_1",
    "ISO_IR 101": "iso8859_2",
    "ISO_IR 109": "iso8859_3",
    "ISO_IR 110": "iso8859_4",
    "ISO_IR 144": "iso_ir_144",
    "ISO_IR 127": "iso_ir_127",
    "ISO_IR 126": "iso_ir_126",
    "ISO_IR 138": "iso_ir_138",
    "ISO_IR 148": "iso_ir_148",
    "ISO_IR 166": "iso_ir_166",
}
_NO_CHARSET = "iso8859"
# Transfer syntaxes read as explicit VR little endian (the others hand over).
_EXPLICIT_LITTLE = frozenset(
    {
        "1.2.840.10008.1.2.1",
        "1.2.840.10008.1.2.4.50",
        "1.2.840.10008.1.2.4.51",
        "1.2.840.10008.1.2.4.57",
        "1.2.840.10008.1.2.4.70",
        "1.2.840.10008.1.2.4.80",
        "1.2.840.10008.1.2.4.81",
        "1.2.840.10008.1.2.4.90",
        "1.2.840.10008.1.2.4.91",
        "1.2.840.10008.1.2.4.201",
        "1.2.840.10008.1.2.4.202",
        "1.2.840.10008.1.2.4.203",
        "1.2.840.10008.1.2.5",
        "1.2.840.10008.1.2.1.98",
    }
)

_EXPLICIT = struct.Struct("<HH2sH").unpack_from
_IMPLICIT = struct.Struct("<HHL").unpack_from
_LONG = struct.Struct("<L").unpack_from
_UNDEFINED = 0xFFFFFFFF
_DEEPEST = 8  # nested undefined-length sequences read here
_ITEM, _ITEM_END, _SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
_FLAGS |= getattr(os, "O_CLOEXEC", 0)


class HandOver(BaseException):
    """This file needs the pydicom-based reader.

    A BaseException: the record's builders catch ``Exception`` around values pydicom cannot
    convert; a hand-over must pass through them, not become a missing value.
    """


class NeedMore(Exception):
    """The bytes read end before the header does: read up to ``upto`` and walk again."""

    def __init__(self, upto: int) -> None:
        super().__init__(upto)
        self.upto = upto


class HeaderValues(Protocol):
    """The values of one header, as :func:`.header_values.header_value` reads them."""

    syntax: str

    def get(self, keyword: str, default: Any = None) -> Any:
        """Text (a list of texts when multi-valued) or numbers; ``default`` when absent."""

    def has(self, keyword: str) -> bool:
        """Whether the header holds the element (at its top level)."""

    def meta_uid(self, keyword: str) -> str:
        """A UID of the file meta group, "" when absent."""

    def dataset(self) -> Any:
        """The pydicom data set (:class:`HandOver` for a plain header)."""

    def layer_source(self) -> str | None:
        """What :func:`.layers.detect.layer_source` says of the header."""


@dataclass(frozen=True, slots=True)
class Walk:
    """Where a walk found the elements: ``elements`` maps each top-level tag to (VR as
    written or None, value offset, value length); ``stop`` is where Pixel Data starts (or the
    end of the file); ``checks`` are the byte ranges the walk's course depends on."""

    elements: dict[int, tuple[bytes | None, int, int]]
    syntax: str
    media_class: str
    stop: int
    checks: tuple[tuple[int, int], ...]


class Skeleton:
    """A walk kept for the next files: ``matches(data)`` when their walk would be the same.

    It also keeps what the reader's caller made of a file of this walk (:meth:`keep`), with
    the byte ranges of the values that made it: ``kept_for(data)`` gives it back when the
    walk matches and those values are the same (one comparison for both)."""

    __slots__ = ("_expected", "_getter", "_needed", "_same", "kept", "walk")

    def __init__(self, walk: Walk, data: bytes) -> None:
        self.walk = walk
        self._getter = operator.itemgetter(*(slice(a, b) for a, b in walk.checks))
        self._expected = self._getter(data)
        self._needed = max(b for _, b in walk.checks)
        self._same: tuple[Callable[[bytes], Any], Any, int] | None = None
        self.kept: Any = None

    def matches(self, data: bytes) -> bool:
        return len(data) >= self._needed and self._getter(data) == self._expected

    def keep(self, kept: Any, ranges: Iterable[tuple[int, int]], data: bytes) -> None:
        """Give ``kept`` back for the next files whose values in ``ranges`` are those of
        ``data`` (a file this skeleton matches); None: give nothing back."""
        self.kept, self._same = kept, None
        if kept is None:
            return
        merged: list[list[int]] = []
        for start, end in sorted({*self.walk.checks, *ranges}):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        getter = operator.itemgetter(*(slice(a, b) for a, b in merged), slice(0, 0))
        self._same = (getter, getter(data), merged[-1][1])

    def kept_for(self, data: bytes) -> Any:
        same = self._same
        if same is not None and len(data) >= same[2] and same[0](data) == same[1]:
            return self.kept
        return None


# Walks kept at once: files of a series alternate between a few (a SOP Instance UID one digit
# shorter moves every element after it).
_KEPT_WALKS = 4


@dataclass(slots=True)
class PlainHeader:
    """A header read plainly: its bytes, its walk and the file's facts."""

    data: bytes
    walk: Walk
    size: int
    info: os.stat_result
    # What the reader's caller kept for headers of this walk and values (Skeleton.keep).
    kept: Any = None

    @property
    def pixel_head(self) -> bytes:
        return self.data[self.walk.stop : self.walk.stop + 12]


def open_and_read(path: str, first: int = FIRST_READ) -> tuple[bytes, os.stat_result, int]:
    """The first ``first`` bytes of the regular file ``path``: ``(bytes, fstat, fd)``; the
    caller closes ``fd``. Never blocks on a FIFO (see :mod:`.fileio`); raises NotRegularFile,
    OSError."""
    fd = os.open(path, _FLAGS)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(f"not a regular file: {kind_of(info.st_mode)}")
        return os.read(fd, min(info.st_size, first)), info, fd
    except BaseException:
        os.close(fd)
        raise


class PlainReader:
    """Reads headers plainly, keeping the last few walks to check the next files against
    (with what the caller kept for each), and the values read so far (a series repeats most
    of them)."""

    def __init__(self) -> None:
        self._skeletons: list[Skeleton] = []
        self._memo: dict[Any, Any] = {}
        self._first = FIRST_READ

    def keep(self, header: PlainHeader, kept: Any, ranges: Iterable[tuple[int, int]] = ()) -> None:
        """Give ``kept`` back (:attr:`PlainHeader.kept`) with the next headers of the walk of
        ``header`` (the last one read) whose values in ``ranges`` are those of ``header``;
        None: stop giving anything back with that walk."""
        for skeleton in self._skeletons:
            if skeleton.walk is header.walk:
                skeleton.keep(kept, ranges, header.data)
                return

    def values(self, header: PlainHeader) -> PlainValues:
        """The values of ``header``."""
        if len(self._memo) > 4096:  # per-file values (UIDs) would fill it
            self._memo.clear()
        return PlainValues(header, self._memo)

    def read(self, path: str) -> PlainHeader | str:
        """The plain header of ``path``, or why the file is not DICOM (its DICM prefix is
        missing). Raises :class:`HandOver`, NotRegularFile and OSError."""
        data, info, fd = open_and_read(path, self._first)
        try:
            size = info.st_size
            if len(data) < min(size, self._first):
                raise HandOver  # the file shrank under us
            while True:
                if data[128:132] != b"DICM":
                    return NO_PREFIX
                skeletons = self._skeletons
                for i, skeleton in enumerate(skeletons):
                    kept = skeleton.kept_for(data)
                    if kept is not None or skeleton.matches(data):
                        if i:
                            skeletons.insert(0, skeletons.pop(i))
                        self._first = _first_read(skeleton.walk.stop)
                        return PlainHeader(data, skeleton.walk, size, info, kept)
                try:
                    walk = walk_header(data, size)
                except NeedMore as more:
                    want = min(size, max(more.upto, 4 * len(data)))
                    if len(data) >= size or want > LARGEST_HEADER:
                        raise HandOver from None
                    more_data = _read_more(fd, len(data), want)
                    if len(data) + len(more_data) < want:
                        raise HandOver from None  # the file shrank under us
                    data += more_data
                    continue
                if walk.stop < size:
                    skeletons.insert(0, Skeleton(walk, data))
                    del skeletons[_KEPT_WALKS:]
                self._first = _first_read(walk.stop)
                return PlainHeader(data, walk, size, info)
        finally:
            os.close(fd)


def _first_read(stop: int) -> int:
    """The whole pages that hold a header whose Pixel Data starts at ``stop`` (and its first
    12 bytes, which a walk checks)."""
    return min(max(FIRST_READ, -(-(stop + 12) // 4096) * 4096), LARGEST_FIRST_READ)


def _read_more(fd: int, start: int, end: int) -> bytes:
    chunks = []
    while start < end:
        chunk = os.pread(fd, end - start, start)
        if not chunk:
            break
        chunks.append(chunk)
        start += len(chunk)
    return b"".join(chunks)


def walk_header(data: bytes, size: int) -> Walk:
    """Walk the header in ``data`` (the first bytes of a file of ``size`` bytes, with the
    ``DICM`` prefix). Raises :class:`NeedMore` or :class:`HandOver`."""
    eof = len(data) >= size
    checks: list[tuple[int, int]] = []
    meta, pos = _meta(data, eof, checks)
    syntax = _uid(data, meta.get(0x00020010))
    if syntax == IMPLICIT_VR_LITTLE_ENDIAN:
        implicit = True
    elif syntax in _EXPLICIT_LITTLE:
        implicit = False
    else:
        raise HandOver  # big endian, deflated, private or unknown: pydicom decides
    group_length = meta.get(0x00020000)
    if group_length is None or group_length[0] != b"UL" or group_length[2] != 4:
        raise HandOver  # pydicom checks the group itself then
    ts = meta[0x00020010]
    checks.append((ts[1], ts[1] + ts[2]))
    n = len(data)
    if pos + 8 > n:
        if eof:
            raise HandOver  # an empty data set: pydicom assumes implicit VR
        raise NeedMore(pos + 12)
    if data[pos : pos + 2] == b"\0\0":
        raise HandOver  # a command set
    a, b = data[pos + 4], data[pos + 5]
    if (not (0x40 < a < 0x5B and 0x40 < b < 0x5B)) != implicit:
        raise HandOver  # the syntax is wrong about the VR: pydicom switches, with a warning
    elements: dict[int, tuple[bytes | None, int, int]] = {}
    stop = _dataset(data, pos, eof, implicit, checks, elements)
    if stop < n:
        if stop + 12 > n and not eof:
            raise NeedMore(stop + 12)
        checks.append((stop, min(stop + 12, n)))
    media = ""
    if 0x00020002 in meta:
        media = _uid(data, meta[0x00020002])
        checks.append((meta[0x00020002][1], meta[0x00020002][1] + meta[0x00020002][2]))
    return Walk(elements, syntax, media, stop, tuple(checks))


def _uid(data: bytes, element: tuple[bytes | None, int, int] | None) -> str:
    """A UI value as header_values.uid_value reads it; several values hand over."""
    if element is None:
        raise HandOver
    _, at, length = element
    text = data[at : at + length].decode("latin-1").rstrip("\0 ")
    if "\\" in text:
        raise HandOver
    return text.strip()


def _meta(
    data: bytes, eof: bool, checks: list[tuple[int, int]]
) -> tuple[dict[int, tuple[bytes | None, int, int]], int]:
    """The file meta group (explicit VR little endian) and where it ends."""
    meta: dict[int, tuple[bytes | None, int, int]] = {}
    pos, n = 132, len(data)
    while True:
        if pos + 8 > n:
            if eof:
                raise HandOver
            raise NeedMore(pos + 12)
        group, elem, vr, length = _EXPLICIT(data, pos)
        if group != 2:
            if not meta:
                raise HandOver
            return meta, pos
        if vr not in VRS:
            raise HandOver
        at = pos + 8
        if vr in LONG_VRS:
            if at + 4 > n:
                if eof:
                    raise HandOver
                raise NeedMore(at + 4)
            (length,) = _LONG(data, at)
            at += 4
        if length == _UNDEFINED:
            raise HandOver
        end = at + length
        if end > n:
            if eof:
                raise HandOver
            raise NeedMore(end + 12)
        checks.append((pos, at))
        meta[(group << 16) | elem] = (vr, at, length)
        pos = end


def _dataset(
    data: bytes,
    pos: int,
    eof: bool,
    implicit: bool,
    checks: list[tuple[int, int]],
    elements: dict[int, tuple[bytes | None, int, int]],
) -> int:
    """Walk the top-level elements from ``pos`` into ``elements``: where Pixel Data starts,
    or the end of the data."""
    n = len(data)
    add = checks.append
    pixel_tags = PIXEL_TAGS
    while True:
        if pos + 8 > n:
            if pos == n and eof:
                return pos
            if eof:
                raise HandOver  # stray bytes after the last element
            raise NeedMore(pos + 12)
        group, elem, vr, length, at = _element(data, pos, eof, implicit)
        tag = (group << 16) | elem
        if tag in pixel_tags:
            return pos
        if group == 0xFFFE or group & _OVERLAY_MASK == _OVERLAY_GROUPS:
            raise HandOver  # a stray item tag, or overlay planes (read as layers)
        add((pos, at))
        if length == _UNDEFINED:
            if vr not in (b"SQ", None):
                raise HandOver
            end = _sequence(data, at, eof, implicit, checks, 1)
        else:
            end = at + length
            if end > n:
                if eof:
                    raise HandOver
                raise NeedMore(end + 12)
        elements[tag] = (vr, at, length)
        pos = end


def _element(
    data: bytes, pos: int, eof: bool, implicit: bool
) -> tuple[int, int, bytes | None, int, int]:
    """(group, element, VR as written or None, length, value offset) of the element whose
    header starts at ``pos`` (at least 8 bytes of ``data``). Item tags have no VR."""
    if implicit or data[pos : pos + 2] == b"\xfe\xff":
        group, elem, length = _IMPLICIT(data, pos)
        return group, elem, None, length, pos + 8
    group, elem, vr, length = _EXPLICIT(data, pos)
    if vr not in VRS:
        raise HandOver
    at = pos + 8
    if vr in LONG_VRS:
        if at + 4 > len(data):
            if eof:
                raise HandOver
            raise NeedMore(at + 4)
        (length,) = _LONG(data, at)
        at += 4
    return group, elem, vr, length, at


def _sequence(data: bytes, pos: int, eof: bool, implicit: bool, checks: list, depth: int) -> int:
    """Where the undefined-length sequence whose items start at ``pos`` ends (``depth``: how
    deep it is nested; pydicom judges deep nests, which may exhaust its recursion)."""
    if depth > _DEEPEST:
        raise HandOver
    n = len(data)
    while True:
        if pos + 8 > n:
            if eof:
                raise HandOver
            raise NeedMore(pos + 12)
        group, elem, length = _IMPLICIT(data, pos)
        tag = (group << 16) | elem
        checks.append((pos, pos + 8))
        if tag == _SEQUENCE_END:
            return pos + 8
        if tag != _ITEM:
            raise HandOver
        if length != _UNDEFINED:
            pos += 8 + length
            continue
        pos = _item(data, pos + 8, eof, implicit, checks, depth)


def _item(data: bytes, pos: int, eof: bool, implicit: bool, checks: list, depth: int) -> int:
    """Where the undefined-length item whose elements start at ``pos`` ends."""
    n = len(data)
    while True:
        if pos + 8 > n:
            if eof:
                raise HandOver
            raise NeedMore(pos + 12)
        group, elem, vr, length, at = _element(data, pos, eof, implicit)
        checks.append((pos, at))
        tag = (group << 16) | elem
        if tag == _ITEM_END:
            return at
        if group == 0xFFFE:
            raise HandOver
        if length == _UNDEFINED:
            if vr not in (b"SQ", None):
                raise HandOver
            pos = _sequence(data, at, eof, implicit, checks, depth + 1)
            continue
        pos = at + length
        if pos > n:
            if eof:
                raise HandOver
            raise NeedMore(pos + 12)


class PlainValues:
    """:class:`HeaderValues` of a plain header: the bytes read as
    :func:`.header_values.header_value` reads them, or :class:`HandOver` where it would ask
    pydicom."""

    __slots__ = ("_data", "_elements", "_media", "_memo", "syntax")

    def __init__(self, header: PlainHeader, memo: dict[Any, Any]) -> None:
        self._data = header.data
        walk = header.walk
        self._elements = walk.elements
        self.syntax = walk.syntax
        self._media = walk.media_class
        self._memo = memo

    def get(self, keyword: str, default: Any = None) -> Any:
        tag, dictionary_vr = KEYWORDS[keyword]
        found = self._elements.get(tag)
        if found is None:
            return default
        written, at, length = found
        raw = self._data[at : at + length]
        key = (tag, written, raw)
        memo = self._memo
        value = memo.get(key, memo)
        if value is memo:
            vr = written.decode() if written else dictionary_vr
            value = self._value(vr, raw)
            if vr not in _DECODED_VRS or raw.isascii():  # else the character set decides
                memo[key] = value
        return value

    def get_own(self, keyword: str) -> Any:
        """:meth:`get` of a value each file has its own of (a UID, a number): not kept."""
        tag, dictionary_vr = KEYWORDS[keyword]
        found = self._elements.get(tag)
        if found is None:
            return None
        written, at, length = found
        vr = written.decode() if written else dictionary_vr
        return self._value(vr, self._data[at : at + length])

    def _value(self, vr: str, raw: bytes) -> Any:
        if vr in _DECODED_VRS and not raw.isascii():
            return _decoded(vr, raw, self._encoding())  # the character set decides
        return _value(vr, raw)

    def _encoding(self) -> str:
        """The codec of the header's Specific Character Set (HandOver: one not read here)."""
        found = self._elements.get(0x00080005)
        if found is None:
            return _NO_CHARSET
        _, at, length = found
        name = self._data[at : at + length].decode("latin-1").strip(" \0")
        codec = CHARSETS.get(name)
        if codec is None:
            raise HandOver
        return codec

    def has(self, keyword: str) -> bool:
        return KEYWORDS[keyword][0] in self._elements

    def meta_uid(self, keyword: str) -> str:
        if keyword != "MediaStorageSOPClassUID":
            raise HandOver
        return self._media

    def dataset(self) -> Any:
        raise HandOver

    def layer_source(self) -> None:
        return None  # layer objects and overlay planes were handed over by check()

    def check(self, layer_class: Callable[[str], bool]) -> None:
        """Hand over a header whose record needs pydicom (see the module's docstring);
        ``layer_class(uid)`` tells the SOP classes read as layers."""
        if not _NEEDS_PYDICOM.isdisjoint(self._elements):
            raise HandOver
        sop_class = self.get("SOPClassUID")
        if sop_class is None:
            sop_class = self._media
        if not isinstance(sop_class, str) or layer_class(sop_class):
            raise HandOver


def _decoded(vr: str, raw: bytes, codec: str) -> Any:
    """A non-ASCII PN, LO or SH value as pydicom decodes it: a person name's bytes without
    trailing NULs and spaces, each text value without them after decoding."""
    if b"\x1b" in raw:
        raise HandOver  # code extensions: pydicom switches character sets
    if vr == "PN":
        parts = _decode(raw.rstrip(b"\0 "), codec).split("\\")
    else:
        parts = [part.rstrip("\0 ") for part in _decode(raw, codec).split("\\")]
    return parts[0] if len(parts) == 1 else parts


def _decode(raw: bytes, codec: str) -> str:
    try:
        return raw.decode(codec)
    except UnicodeError:  # pydicom warns and replaces what it cannot decode
        return raw.decode(codec, errors="replace")


def _value(vr: str, raw: bytes) -> Any:
    if not raw:
        if vr in _EMPTY_TEXT_VRS:
            return ""
        if vr in _TEXT_VRS or vr in _INTS:
            return None
        raise HandOver
    if vr in _TEXT_VRS:
        if not raw.isascii():
            raise HandOver  # a character set decides: pydicom
        text = raw.decode("ascii").strip(" \0")
        if "\\" in text:
            return [part.strip(" \0") for part in text.split("\\")]
        return text
    unpack = _INTS.get(vr)
    if unpack is None or len(raw) % unpack.size:
        raise HandOver
    values = [v for (v,) in unpack.iter_unpack(raw)]
    return values[0] if len(values) == 1 else values
