"""A header reader made for scanning: the first bytes of a Part 10 file into a pydicom dataset.

``pydicom.dcmread(fp, stop_before_pixels=True)`` costs ~0.4 ms per file, most of it in
``BufferedReader.tell()``/``read()`` per element and in its generator. This parser reads the
file's start in one call (64 KiB covers almost every header; more only when needed), walks
the elements over that buffer and builds the same :class:`~pydicom.dataset.FileDataset` of
:class:`~pydicom.dataelem.RawDataElement` s that pydicom builds, so that values are converted
later by pydicom with pydicom's own rules (character sets, VR coercion).

It handles explicit and implicit VR little endian and explicit VR big endian. Anything it is
not sure to read exactly as pydicom does (deflated or private transfer syntaxes, a missing or
odd file meta group, a VR switch, a command set, undefined-length values that are not
sequences, a file that ends inside the header) makes it return None: the caller then hands the
file to pydicom. A wrong answer is never the price of speed, only a slower one.
"""

from __future__ import annotations

import copy
import functools
import io
import os
import struct
from dataclasses import dataclass
from io import BytesIO
from typing import Any, BinaryIO, TypeVar, cast

from pydicom import config
from pydicom.charset import convert_encodings, default_encoding
from pydicom.datadict import _dictionary_vr_fast
from pydicom.dataelem import DataElement, RawDataElement, empty_value_for_VR
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.filereader import ENCODED_VR, read_sequence
from pydicom.tag import BaseTag
from pydicom.uid import PrivateTransferSyntaxes
from pydicom.valuerep import EXPLICIT_VR_LENGTH_32
from pydicom.values import convert_string

FIRST_READ = 65536
# pydicom's stop_before_pixels stops at the start of any of these elements.
_PIXEL_TAGS = frozenset({0x7FE00010, 0x7FE00008, 0x7FE00009})
_VRS = {vr: vr.decode(default_encoding) for vr in ENCODED_VR}
_LONG_VRS = frozenset(vr.encode(default_encoding) for vr in EXPLICIT_VR_LENGTH_32)
_UNDEFINED = 0xFFFFFFFF
_Elements = dict[BaseTag, RawDataElement | DataElement]
_D = TypeVar("_D", bound=Dataset)


# RawDataElement(...) without the named tuple's argument parsing (~40 a file): the fields after
# the first seven keep their defaults (is_raw, is_buffered in pydicom 3)
_RAW_DEFAULTS = tuple(RawDataElement._field_defaults[f] for f in RawDataElement._fields[7:])


_CHARSET = 0x00080005
_GROUP_LENGTH = 0x00020000
_TRANSFER_SYNTAX = 0x00020010
# (implicit VR, little endian) of the transfer syntaxes pydicom reads without inflating;
# any other UID that is neither deflated nor private is read as explicit VR little endian.
_SYNTAXES = {
    "1.2.840.10008.1.2": (True, True),
    "1.2.840.10008.1.2.1": (False, True),
    "1.2.840.10008.1.2.2": (False, False),
}
_DEFLATED = "1.2.840.10008.1.2.1.99"
_NO_PREFIX = (
    "File is missing DICOM File Meta Information header or the 'DICM' prefix is missing from "
    "the header. Use force=True to force reading."
)
_LE_EXPLICIT = struct.Struct("<HH2sH").unpack_from
_BE_EXPLICIT = struct.Struct(">HH2sH").unpack_from
_LE_IMPLICIT = struct.Struct("<HHL").unpack_from
_LE_LONG = struct.Struct("<L").unpack_from
_BE_LONG = struct.Struct(">L").unpack_from


@dataclass(frozen=True, slots=True)
class Header:
    """A header read up to where ``stop_before_pixels`` stops.

    ``pixel_offset`` is that position (the start of the Pixel Data element, or the end of the
    file when there is none), ``pixel_head`` the (up to) 12 bytes of the file found there, and
    ``file_size`` the size of the file.
    """

    dataset: FileDataset
    pixel_offset: int
    pixel_head: bytes
    file_size: int


class _NeedMore(Exception):
    """The buffer ends before the header does: read at least up to ``upto`` and parse again."""

    def __init__(self, upto: int) -> None:
        super().__init__(upto)
        self.upto = upto


def read_header(fp: BinaryIO) -> Header | None:
    """Read the header of the open Part 10 file ``fp`` as ``dcmread(fp, stop_before_pixels=True)``
    would; None when the file needs pydicom's own reader (see the module's docstring).

    Raises :class:`~pydicom.errors.InvalidDicomError` (as ``dcmread`` without ``force`` does)
    when the file has no ``DICM`` prefix; errors of ``fp.read`` propagate. ``fp`` is left at an
    unspecified position.
    """
    size = os.fstat(fp.fileno()).st_size
    fp.seek(0)
    want = min(size, FIRST_READ)
    data = fp.read(want)
    while True:
        if len(data) < want:  # the file shrank under us: let pydicom see what is left
            return None
        try:
            return parse_header(data, size, fp)
        except _NeedMore as more:
            if len(data) >= size:  # nothing more to read: a parser slip, not a file fact
                return None
            want = min(size, max(more.upto, 2 * len(data)))
            data += fp.read(want - len(data))
        except InvalidDicomError:
            raise
        except Exception:  # a case this parser did not foresee: pydicom decides
            return None


def parse_header(data: bytes, size: int, source: BinaryIO) -> Header | None:
    """Parse ``data``, the first bytes of a file of ``size`` bytes opened as ``source``.

    Raises ``_NeedMore`` when ``data`` stops before the header does.
    """
    eof = len(data) >= size
    if len(data) < 132 or data[128:132] != b"DICM":
        if eof or len(data) >= 132:
            raise InvalidDicomError(_NO_PREFIX)
        raise _NeedMore(132)
    meta, pos = _file_meta(data, eof)
    if meta is None:
        return None
    mode = _mode(meta)
    if mode is None:
        return None
    implicit, little = mode
    n = len(data)
    if pos + 6 > n:
        if eof:  # an empty (or nearly empty) data set: pydicom then assumes implicit VR LE
            return None
        raise _NeedMore(pos + 12)
    if data[pos : pos + 2] == b"\0\0":  # a command set (group 0000): pydicom reads it apart
        return None
    # pydicom checks the first element's VR and switches (with a warning) when the transfer
    # syntax is wrong about it; such files go to pydicom.
    a, b = data[pos + 4], data[pos + 5]
    if (not (0x40 < a < 0x5B and 0x40 < b < 0x5B)) != implicit:
        return None
    elements = _elements(data, pos, eof, implicit, little)
    if elements is None:
        return None
    found, stop = elements
    if stop < n and stop + 12 > n and not eof:
        raise _NeedMore(stop + 12)
    return _datasets(source, data[:128], meta, found, implicit, little, stop, data, size)


def _file_meta(data: bytes, eof: bool) -> tuple[_Elements | None, int]:
    """The group 0002 elements (always explicit VR little endian) and where they end."""
    meta: _Elements = {}
    pos, n = 132, len(data)
    while True:
        if pos + 8 > n:
            if eof:
                return None, pos
            raise _NeedMore(pos + 12)
        group, elem, vr_bytes, length = _LE_EXPLICIT(data, pos)
        if group != 2:
            return (meta or None), pos
        vr = _VRS.get(vr_bytes)
        if vr is None:
            return None, pos
        at = pos + 8
        if vr_bytes in _LONG_VRS:
            if at + 4 > n:
                if eof:
                    return None, pos
                raise _NeedMore(at + 4)
            (length,) = _LE_LONG(data, at)
            at += 4
        if length == _UNDEFINED:
            return None, pos
        end = at + length
        if end > n:
            if eof:
                return None, pos
            raise _NeedMore(end + 12)
        tag = BaseTag((group << 16) | elem)
        value = data[at:end] if length else _empty(vr)
        meta[tag] = RawDataElement(tag, vr, length, value, at, False, True)
        pos = end


def _empty(vr: str | None) -> bytes | None:
    """The raw value pydicom gives an element of length 0."""
    return cast(bytes | None, empty_value_for_VR(vr, raw=True))


def _mode(meta: _Elements) -> tuple[bool, bool] | None:
    """(implicit VR, little endian) of the data set as pydicom decides it, or None."""
    group_length = meta.get(BaseTag(_GROUP_LENGTH))
    if group_length is not None and (
        not isinstance(group_length, RawDataElement)
        or group_length.VR != "UL"
        or group_length.length != 4
    ):
        return None  # pydicom converts it on reading: a damaged one raises there
    raw = meta.get(BaseTag(_TRANSFER_SYNTAX))
    if not isinstance(raw, RawDataElement) or not isinstance(raw.value, bytes):
        return None
    uid = raw.value.decode(default_encoding).rstrip("\0 ")
    if "\\" in uid or uid == _DEFLATED or uid in PrivateTransferSyntaxes:
        return None
    return _SYNTAXES.get(uid, (False, True))


def _elements(
    data: bytes, pos: int, eof: bool, implicit: bool, little: bool
) -> tuple[_Elements, int] | None:
    """The top-level elements from ``pos`` and where reading stopped, or None."""
    n = len(data)
    found: _Elements = {}
    # implicit VR is always little endian here (_SYNTAXES)
    head = _LE_IMPLICIT if implicit else (_LE_EXPLICIT if little else _BE_EXPLICIT)
    long_length = _LE_LONG if little else _BE_LONG
    charset: bytes | None = None
    # locals: this loop runs ~40 times a file, every global lookup shows
    vrs, long_vrs, pixel_tags, tag_type = _VRS, _LONG_VRS, _PIXEL_TAGS, BaseTag
    new, raw_type, defaults = tuple.__new__, RawDataElement, _RAW_DEFAULTS
    while True:
        if pos + 8 > n:
            if pos == n and eof:
                return found, pos
            if eof:  # a few stray bytes after the last element
                return None
            raise _NeedMore(pos + 12)
        vr: str | None
        if implicit:
            group, elem, length = head(data, pos)
            vr, at = None, pos + 8
        else:
            group, elem, vr_bytes, length = head(data, pos)
            vr = vrs.get(vr_bytes)
            if vr is None:
                return None
            at = pos + 8
            if vr_bytes in long_vrs:
                if at + 4 > n:
                    if eof:
                        return None
                    raise _NeedMore(at + 4)
                (length,) = long_length(data, at)
                at += 4
        tag = (group << 16) | elem
        if group == 0xFFFE:
            return None
        if tag in pixel_tags:
            return found, pos
        if length == _UNDEFINED:
            sequence = _sequence(data, at, eof, tag, vr, implicit, little, charset)
            if sequence is None:
                return None
            element, pos = sequence
            found[element.tag] = element
            continue
        end = at + length
        if end > n:
            if eof:  # cut short: pydicom keeps what is there, we let it
                return None
            raise _NeedMore(end + 12)
        value = data[at:end] if length else _empty(vr)
        if tag == _CHARSET:
            charset = value or b""
        key = tag_type(tag)
        found[key] = new(raw_type, (key, vr, length, value, at, implicit, little, *defaults))
        pos = end


def _sequence(
    data: bytes,
    at: int,
    eof: bool,
    tag: int,
    vr: str | None,
    implicit: bool,
    little: bool,
    charset: bytes | None,
) -> tuple[DataElement, int] | None:
    """An undefined-length sequence read by pydicom's own ``read_sequence`` (as ``dcmread``
    does: nested undefined lengths are delimited, not measured), and where it ends."""
    if vr == "UN" and config.settings.infer_sq_for_un_vr:
        vr = "SQ"
    if vr is None:
        try:
            vr = _dictionary_vr_fast(tag)
        except KeyError:
            return None
    if vr != "SQ":
        return None
    fp = BytesIO(data)
    fp.seek(at)
    try:
        encoding: str | list[str] = default_encoding
        if charset is not None:
            encoding = convert_encodings(convert_string(charset, little))
        sequence = read_sequence(fp, implicit, little, _UNDEFINED, encoding)
        element = DataElement(BaseTag(tag), vr, sequence, at, is_undefined_length=True)
    except Exception:
        if eof:
            return None
        raise _NeedMore(2 * len(data)) from None
    end = fp.tell()
    if end >= len(data) and not eof:
        raise _NeedMore(2 * len(data))
    if end > len(data):
        return None
    return element, end


def _datasets(
    source: BinaryIO,
    preamble: bytes,
    meta: _Elements,
    found: _Elements,
    implicit: bool,
    little: bool,
    stop: int,
    data: bytes,
    size: int,
) -> Header | None:
    """The FileDataset that ``dcmread`` makes of these elements."""
    file_meta = _file_meta_dataset(meta)
    try:
        if _GROUP_LENGTH not in meta:
            # pydicom converts the first element to test that the group is explicit VR.
            file_meta[min(meta)]
        # dcmread builds a Dataset first and hands its elements to the FileDataset: the same
        # elements, and the character set converted by the same property.
        ds = _file_dataset(source, found, preamble, file_meta, implicit, little)
        ds.set_original_encoding(implicit, little, ds._character_set)
    except Exception:
        return None  # pydicom raises here too: let it, with its own message
    return Header(ds, stop, data[stop : stop + 12], size)


# pydicom's constructors set ~40 attributes through Dataset.__setattr__, which checks each name
# against the DICOM dictionary: ~40 µs a file, a third of this reader. The datasets are made
# instead from the attributes the constructors gave a blank one (tests/test_header_reader.py
# compares every attribute with dcmread's).
@functools.cache
def _blank(kind: str) -> dict[str, Any]:
    meta = FileMetaDataset()
    meta.set_original_encoding(False, True, default_encoding)
    if kind == FileMetaDataset.__name__:
        return dict(vars(meta))
    return dict(vars(FileDataset("", {}, None, meta)))


def _made(kind: type[_D], attributes: dict[str, Any]) -> _D:
    made = kind.__new__(kind)
    for key, value in _blank(kind.__name__).items():
        # fresh containers: a dataset's private blocks and pixel options are its own
        made.__dict__[key] = copy.copy(value) if isinstance(value, dict | list) else value
    made.__dict__.update(attributes)
    return made


def _file_meta_dataset(meta: _Elements) -> FileMetaDataset:
    """``FileMetaDataset(meta)`` with dcmread's original encoding (all tags are group 2)."""
    return _made(FileMetaDataset, {"_dict": meta})


def _file_dataset(
    source: BinaryIO,
    found: _Elements,
    preamble: bytes,
    file_meta: FileMetaDataset,
    implicit: bool,
    little: bool,
) -> FileDataset:
    """``FileDataset(source, found, preamble, file_meta, implicit, little)``."""
    name = getattr(source, "name", None)
    if not isinstance(source, io.BufferedReader) or not isinstance(name, str) or not name:
        return FileDataset(source, found, preamble, file_meta, implicit, little)
    attributes = {
        "_dict": found,
        "preamble": preamble,
        "file_meta": file_meta,
        "_read_implicit": implicit,
        "_read_little": little,
        "filename": name,
        "fileobj_type": open,
        "buffer": None,
        "timestamp": os.stat(name).st_mtime if os.path.exists(name) else None,
    }
    made = _made(FileDataset, attributes)
    if "_is_implicit_VR" in made.__dict__:  # pydicom < 4 keeps these too
        made.__dict__.update(_is_implicit_VR=implicit, _is_little_endian=little)
    return made
