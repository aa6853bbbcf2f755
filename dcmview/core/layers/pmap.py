"""Parametric Maps as ``heatmap`` layers, read with highdicom (real-world values applied)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .model import AffineVolume, LayerSource, References, frame_spacing, value_range


def read_pmap(ds: Any, name: str, own_file: int | None = None) -> LayerSource:
    """A heatmap layer of the Parametric Map dataset ``ds`` (with its pixel data)."""
    import highdicom as hd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        image = hd.pm.ParametricMap.from_dataset(ds, copy=False)
        volume = image.get_volume(dtype=np.float32, apply_real_world_transform=True)
    data = np.asarray(volume.array, dtype=np.float32)
    return LayerSource(
        name=name,
        kind="heatmap",
        source="pmap",
        placement=AffineVolume(
            str(volume.frame_of_reference_uid or ""),
            data,
            np.asarray(volume.affine),
            slice_spacing=frame_spacing(ds),
        ),
        units=_units(ds),
        value_range=value_range(data),
        references=References(
            series_uids=tuple(
                str(i.get("SeriesInstanceUID", ""))
                for i in ds.get("ReferencedSeriesSequence", [])
                if i.get("SeriesInstanceUID")
            ),
            frame_of_reference=str(ds.get("FrameOfReferenceUID", "") or ""),
            own_file=own_file,
        ),
    )


def _units(ds: Any) -> str:
    """The measurement units of the first real-world value mapping (shared or first frame)."""
    for groups in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
        for item in ds.get(groups, [])[:1]:
            for mapping in item.get("RealWorldValueMappingSequence", [])[:1]:
                for code in mapping.get("MeasurementUnitsCodeSequence", [])[:1]:
                    return str(code.get("CodeValue", "") or code.get("CodeMeaning", ""))
    return ""
