"""RT Dose grids as ``heatmap`` layers: stored values × Dose Grid Scaling, in Gy.

The planes are Image Position (Patient) moved along the normal by Grid Frame Offset Vector:
offsets from the first plane when its first value is 0, else (PS3.3 C.8.8.3.2) the planes'
coordinates along the normal.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .model import LayerError, LayerSource, PlaneStack, References, value_range


def read_dose(ds: Any, name: str, own_file: int | None = None) -> LayerSource:
    """A heatmap layer of the RT Dose dataset ``ds`` (with its pixel data)."""
    stored = np.asarray(ds.pixel_array)
    frames = stored.reshape((-1, *stored.shape[-2:]))
    dose = (frames * float(ds.get("DoseGridScaling", 1.0) or 1.0)).astype(np.float32)
    try:
        orientation = np.array([float(v) for v in ds.ImageOrientationPatient], dtype=np.float64)
        origin = np.array([float(v) for v in ds.ImagePositionPatient], dtype=np.float64)
        spacing = tuple(float(v) for v in ds.PixelSpacing)
    except (AttributeError, ValueError, TypeError) as exc:
        raise LayerError(f"the RT Dose has no usable plane geometry ({exc})") from None
    row, column = orientation[:3], orientation[3:]
    normal = np.cross(row, column)
    offsets = [float(v) for v in ds.get("GridFrameOffsetVector", None) or [0.0]]
    if len(offsets) != frames.shape[0]:
        raise LayerError(
            f"Grid Frame Offset Vector has {len(offsets)} value(s) for {frames.shape[0]} frame(s)"
        )
    if offsets[0] == 0:
        positions = origin[None, :] + np.array(offsets)[:, None] * normal[None, :]
    else:  # coordinates along the normal: move the origin's plane to each
        base = origin @ normal
        positions = origin[None, :] + (np.array(offsets) - base)[:, None] * normal[None, :]
    units = str(ds.get("DoseUnits", "") or "").upper()
    return LayerSource(
        name=name,
        kind="heatmap",
        source="rtdose",
        placement=PlaneStack(
            str(ds.get("FrameOfReferenceUID", "") or ""),
            dose,
            positions,
            row,
            column,
            (spacing[0], spacing[1]),
        ),
        units="Gy" if units == "GY" else units.lower() or "",
        value_range=value_range(dose),
        references=References(
            frame_of_reference=str(ds.get("FrameOfReferenceUID", "") or ""), own_file=own_file
        ),
    )
