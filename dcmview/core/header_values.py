"""Header values read straight from pydicom's raw elements, for the start-up scan.

``Dataset.get`` converts a value through pydicom's full machinery (character sets, value
classes, validation hooks): ~0.04 ms per element, more than reading the whole header. The scan
reads ~30 plain values per file, almost all ASCII text or small binary integers; this reads
those directly and hands anything else (non-ASCII text, other VRs, already converted elements)
to ``Dataset.get``, so the result is what the scan's own converters would get from pydicom.
"""

from __future__ import annotations

import functools
import struct
from typing import Any

from pydicom.charset import default_encoding
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

_TEXT_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "PN", "SH", "TM", "UI"})
_INT_FORMATS = {"US": "H", "SS": "h", "UL": "I", "SL": "i"}


@functools.cache
def _entry(keyword: str) -> tuple[BaseTag, str] | None:
    tag = tag_for_keyword(keyword)
    if tag is None:
        return None
    return BaseTag(tag), str(dictionary_VR(tag))


def header_value(ds: Dataset, keyword: str, default: Any = None) -> Any:
    """The value of ``keyword``: text (a list of texts when multi-valued) or numbers.

    Same meaning as ``ds.get(keyword, default)`` for the scan's purposes (its converters accept
    text or numbers), without converting through pydicom when the raw bytes are plain.
    """
    entry = _entry(keyword)
    if entry is None:
        return ds.get(keyword, default)
    tag, dictionary_vr = entry
    # ``ds.get_item`` without its tag parsing (~3 µs a call, ~30 calls a file); a deferred
    # value (None) goes to ``ds.get`` below, which reads it.
    raw = ds._dict.get(tag)
    if raw is None:
        return default
    if not isinstance(raw, RawDataElement) or not raw.value:
        return ds.get(keyword, default)
    vr = str(raw.VR or dictionary_vr)
    data: bytes = raw.value
    if vr in _TEXT_VRS and data.isascii():
        text = data.decode("ascii").strip(" \0")
        if "\\" in text:
            return [part.strip(" \0") for part in text.split("\\")]
        return text
    fmt = _INT_FORMATS.get(vr)
    if fmt is not None:
        size = struct.calcsize(fmt)
        if len(data) % size == 0:
            order = "<" if raw.is_little_endian else ">"
            values = list(struct.unpack(f"{order}{len(data) // size}{fmt}", data))
            return values[0] if len(values) == 1 else values
    return ds.get(keyword, default)


def has_element(ds: Dataset, keyword: str) -> bool:
    """``keyword in ds``, without pydicom's keyword lookup on every call."""
    entry = _entry(keyword)
    return keyword in ds if entry is None else entry[0] in ds._dict


def uid_value(ds: Dataset, keyword: str) -> str:
    """``str(ds.get(keyword, ""))`` for a UI element, read from the raw bytes when plain.

    The same steps as pydicom's ``convert_UI`` and ``UID``: trailing NULs and spaces off,
    then surrounding whitespace; several values go through pydicom.
    """
    entry = _entry(keyword)
    raw = ds._dict.get(entry[0]) if entry is not None else None
    if isinstance(raw, RawDataElement) and raw.value and raw.VR in (None, "UI"):
        text = raw.value.decode(default_encoding).rstrip("\0 ")
        if "\\" not in text:
            return text.strip()
    return str(ds.get(keyword, ""))


class DatasetValues:
    """:class:`~.plain_header.HeaderValues` of a pydicom data set (the scan's fallback, and
    DICOMweb metadata)."""

    __slots__ = ("_ds", "syntax")

    def __init__(self, ds: Dataset) -> None:
        self._ds = ds
        self.syntax = uid_value(ds.file_meta, "TransferSyntaxUID")

    def get(self, keyword: str, default: Any = None) -> Any:
        return header_value(self._ds, keyword, default)

    def has(self, keyword: str) -> bool:
        return has_element(self._ds, keyword)

    def meta_uid(self, keyword: str) -> str:
        return uid_value(self._ds.file_meta, keyword)

    def dataset(self) -> Dataset:
        return self._ds

    def layer_source(self) -> str | None:
        from .layers.detect import layer_source

        return layer_source(self._ds)
