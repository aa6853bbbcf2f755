"""Which inputs are layers: told from a header at discovery, without reading pixel data."""

from __future__ import annotations

from typing import Any

# SOP Class UID -> the reader of :mod:`.readers` for it.
SOP_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.66.4": "seg",
    "1.2.840.10008.5.1.4.1.1.66.7": "seg",  # Label Map Segmentation (PS3.3 2024c)
    "1.2.840.10008.5.1.4.1.1.481.3": "rtstruct",
    "1.2.840.10008.5.1.4.1.1.481.2": "rtdose",
    "1.2.840.10008.5.1.4.1.1.30": "pmap",
}
# Sources that are objects of their own (their images are not what a user looks at).
DOCUMENT_SOURCES = frozenset(SOP_CLASSES.values())


def layer_source(ds: Any) -> str | None:
    """``"seg"``, ``"rtstruct"``, ``"rtdose"``, ``"pmap"`` for those objects, ``"overlay"``
    for an image carrying overlay planes (60xx,3000), else None."""
    uid = ds.get("SOPClassUID")
    if uid is None:
        meta = getattr(ds, "file_meta", None)
        uid = meta.get("MediaStorageSOPClassUID") if meta is not None else None
    kind = SOP_CLASSES.get(str(uid or "").strip())
    if kind is not None:
        return kind
    return "overlay" if overlay_groups(ds) else None


def overlay_groups(ds: Any) -> list[int]:
    """The groups 0x6000-0x601E (even) whose Overlay Data (60xx,3000) is in ``ds``."""
    return [
        int(tag) >> 16
        for tag in ds.keys()  # noqa: SIM118 (iterating a Dataset yields elements, not tags)
        if (int(tag) >> 16) & 0xFF01 == 0x6000 and int(tag) & 0xFFFF == 0x3000
    ]
