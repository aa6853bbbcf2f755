"""Overlay planes (60xx,3000) of an image file as ``labels`` layers of that file (PS3.3 C.9).

One layer per overlay group, drawn on the file's own frames: a multi-frame overlay starts at
Image Frame Origin; Overlay Origin places its first pixel. Display only: ``/raw`` never
changes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .detect import overlay_groups
from .model import IndexedSlices, Label, LayerSource, References, default_color


def read_overlays(ds: Any, file_index: int) -> list[LayerSource]:
    """One layer per overlay plane of the header ``ds`` of file ``file_index``."""
    out = []
    for number, group in enumerate(overlay_groups(ds), start=1):
        out.append(_overlay(ds, group, number, file_index))
    return out


def _overlay(ds: Any, group: int, number: int, file_index: int) -> LayerSource:
    name = _text(ds, group, 0x1500) or _text(ds, group, 0x0022) or f"Overlay {group:04X}"
    try:
        bits = np.asarray(ds.overlay_array(group))
    except Exception as exc:  # a damaged plane is listed with what went wrong
        return LayerSource(
            name=name,
            kind="labels",
            source="overlay",
            placement=None,
            references=References(own_file=file_index),
            problem=f"the overlay plane cannot be read: {exc}",
        )
    frames = bits.reshape((-1, *bits.shape[-2:])).astype(np.uint8)
    first = _number(ds, group, 0x0051, 1) - 1  # Image Frame Origin, 1-based
    origin = ds.get((group << 16) | 0x0050)
    row, column = (int(origin.value[0]), int(origin.value[1])) if origin is not None else (1, 1)
    return LayerSource(
        name=name,
        kind="labels",
        source="overlay",
        placement=IndexedSlices(
            frames, file_index, offset=(row - 1, column - 1), first_frame=max(0, first)
        ),
        labels=[Label(1, name, default_color(10))],
        value_range=(0.0, 1.0),
        references=References(own_file=file_index),
    )


def _text(ds: Any, group: int, element: int) -> str:
    item = ds.get((group << 16) | element)
    return str(item.value).strip() if item is not None and item.value else ""


def _number(ds: Any, group: int, element: int, default: int) -> int:
    item = ds.get((group << 16) | element)
    try:
        return int(item.value) if item is not None and item.value not in (None, "") else default
    except (TypeError, ValueError):
        return default
