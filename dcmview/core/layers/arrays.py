"""numpy arrays as layers, index to index: integer and boolean arrays are ``labels``, float
arrays a ``heatmap``. The shape must be the target's exactly (no resampling is guessed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .model import (
    IndexedSlices,
    Label,
    LayerError,
    LayerSource,
    hex_color,
    label_dtype,
    labels_of,
    value_range,
)


def read_array(
    array: Any,
    name: str,
    shape: tuple[int, int, int],
    target: str,
    file_index: int | None = None,
) -> LayerSource:
    """A layer of ``array`` over a target of ``shape`` (frames, rows, columns), named
    ``target`` in messages; a 2-D array is one frame. LayerError names both shapes."""
    data = np.asarray(array)
    if data.ndim == 2:
        data = data[None]
    if data.ndim != 3 or data.shape != shape:
        given = tuple(np.shape(array))
        raise LayerError(
            f"the array's shape {given} does not match {target}, whose shape is {shape} "
            "(frames, rows, columns)" + (f" or {shape[1:]} for one image" if shape[0] == 1 else "")
        )
    if data.dtype.kind in "biu":
        top = int(data.max()) if data.size else 0
        if data.size and int(data.min()) < 0:
            raise LayerError("a label array cannot hold negative values")
        if top > 65535:
            raise LayerError(f"label values go up to {top}; at most 65535 are drawn")
        labels = np.ascontiguousarray(data, dtype=label_dtype(top))
        return LayerSource(
            name=name,
            kind="labels",
            source="array",
            placement=IndexedSlices(labels, file_index),
            labels=labels_of(labels),
            value_range=(0.0, float(top)),
        )
    if data.dtype.kind != "f":
        raise LayerError(f"an array of {data.dtype} cannot be drawn: give integers or floats")
    values = np.ascontiguousarray(data, dtype=np.float32)
    return LayerSource(
        name=name,
        kind="heatmap",
        source="array",
        placement=IndexedSlices(values, file_index),
        value_range=value_range(values),
    )


def recolor(labels: list[Label], colors: Mapping[int, Any] | Sequence[Any]) -> list[Label]:
    """``labels`` with the colours given: ``{value: colour}`` or a sequence for values 1, 2, …
    A colour is ``"#rrggbb"`` or (r, g, b) in 0-255."""
    table = dict(colors) if isinstance(colors, Mapping) else dict(enumerate(colors, start=1))
    out = []
    for label in labels:
        color = table.get(label.value)
        out.append(Label(label.value, label.name, _color(color)) if color is not None else label)
    return out


def _color(value: Any) -> str:
    if isinstance(value, str):
        text = value.strip().lower()
        if len(text) == 7 and text[0] == "#" and all(c in "0123456789abcdef" for c in text[1:]):
            return text
        raise LayerError(f"colour {value!r} is not of the form '#rrggbb'")
    try:
        rgb = [float(v) for v in value]
    except (TypeError, ValueError):
        raise LayerError(f"colour {value!r} is neither '#rrggbb' nor (r, g, b)") from None
    if len(rgb) != 3:
        raise LayerError(f"colour {value!r} needs three components (r, g, b)")
    return hex_color(rgb)
