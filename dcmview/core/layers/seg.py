"""DICOM Segmentation objects as ``labels`` layers, read with highdicom.

Every segment becomes one label value (its Segment Number), named by its Segment Label and
coloured by its Recommended Display CIELab Value turned into sRGB (highdicom's conversion).
Fractional segments count where their value is at least half the maximum. Where segments
overlap, the higher segment number is drawn.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Any

import numpy as np

from .model import (
    AffineVolume,
    Label,
    LayerSource,
    References,
    default_color,
    frame_spacing,
    hex_color,
)


def read_seg(ds: Any, name: str, own_file: int | None = None) -> LayerSource:
    """A labels layer of the SEG dataset ``ds`` (with its pixel data)."""
    import highdicom as hd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seg = hd.seg.Segmentation.from_dataset(ds, copy=False)
        numbers = [int(n) for n in seg.get_segment_numbers()]
        labels = [_label(seg, n) for n in numbers]
        dtype = np.uint8 if max(numbers, default=0) < 256 else np.uint16
        if str(ds.get("SegmentationType", "")).upper() == "FRACTIONAL":
            volume = seg.get_volume(rescale_fractional=True, dtype=np.float32)
            label_map = _threshold(volume.array, numbers, dtype)
        else:  # one label map straight from highdicom (a float per segment took 10x longer)
            volume = seg.get_volume(combine_segments=True, skip_overlap_checks=True, dtype=dtype)
            label_map = np.asarray(volume.array, dtype=dtype)
    return LayerSource(
        name=name,
        kind="labels",
        source="seg",
        placement=AffineVolume(
            str(volume.frame_of_reference_uid or ""),
            label_map,
            np.asarray(volume.affine),
            slice_spacing=frame_spacing(ds),
            sparse=True,  # highdicom leaves out the frames without a segment
        ),
        labels=labels,
        value_range=(0.0, float(max(numbers, default=0))),
        references=References(
            series_uids=_referenced_series(ds),
            frame_of_reference=str(ds.get("FrameOfReferenceUID", "") or ""),
            own_file=own_file,
        ),
    )


def _threshold(array: np.ndarray, numbers: list[int], dtype: Any) -> np.ndarray:
    """Fractional segments as one label map: a segment where it is at least one half."""
    if array.ndim == 3:  # one segment: no channel axis
        array = array[..., None]
    label_map = np.zeros(array.shape[:3], dtype=dtype)
    for channel, number in enumerate(numbers):
        label_map[array[..., channel] >= 0.5] = number
    return label_map


def _label(seg: Any, number: int) -> Label:
    import highdicom as hd

    description = seg.get_segment_description(number)
    name = str(description.get("SegmentLabel", "") or f"Segment {number}")
    lab = description.get("RecommendedDisplayCIELabValue")
    color = default_color(number)
    if lab is not None:
        with contextlib.suppress(ValueError, TypeError):  # out of range: the default colour
            color = hex_color(hd.color.CIELabColor.from_dicom_value(tuple(lab)).to_rgb())
    return Label(number, name, color)


def _referenced_series(ds: Any) -> tuple[str, ...]:
    uids = [
        str(item.get("SeriesInstanceUID", "")) for item in ds.get("ReferencedSeriesSequence", [])
    ]
    return tuple(u for u in uids if u)
