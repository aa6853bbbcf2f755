"""RT Structure Sets as ``contours`` layers: closed planar contours of each ROI.

An ROI is one label value (its ROI Number), named by its ROI Name and coloured by its ROI
Display Color. Contours are kept in patient space; :mod:`.contours` draws the ones lying on
an image, as polygons or filled.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .model import (
    Contour,
    ContourSet,
    Label,
    LayerError,
    LayerSource,
    References,
    default_color,
    hex_color,
)

# Point and open contours mark no area; only closed ones are drawn.
_DRAWN = frozenset({"CLOSED_PLANAR", "CLOSEDPLANAR_XOR"})


def read_rtstruct(ds: Any, name: str, own_file: int | None = None) -> LayerSource:
    """A contours layer of the RTSTRUCT dataset ``ds``."""
    names = {
        int(roi.ROINumber): str(roi.get("ROIName", "") or f"ROI {roi.ROINumber}")
        for roi in ds.get("StructureSetROISequence", [])
        if roi.get("ROINumber") is not None
    }
    contours: list[Contour] = []
    labels: dict[int, Label] = {}
    for roi in ds.get("ROIContourSequence", []):
        number = roi.get("ReferencedROINumber")
        if number is None or not 0 < int(number) < 65536:
            continue
        value = int(number)
        color = roi.get("ROIDisplayColor")
        shown = hex_color(color) if color is not None and len(color) >= 3 else None
        for item in roi.get("ContourSequence", []):
            if str(item.get("ContourGeometricType", "")).upper() not in _DRAWN:
                continue
            data = [float(v) for v in item.get("ContourData", [])]
            if len(data) < 9 or len(data) % 3:
                continue
            contours.append(Contour(value, np.array(data, dtype=np.float64).reshape(-1, 3)))
            labels.setdefault(
                value, Label(value, names.get(value, f"ROI {value}"), shown or default_color(value))
            )
    if not contours:
        raise LayerError("the structure set has no closed planar contour to draw")
    for_uid = _frame_of_reference(ds)
    return LayerSource(
        name=name,
        kind="contours",
        source="rtstruct",
        placement=ContourSet(for_uid, tuple(contours)),
        labels=sorted(labels.values(), key=lambda label: label.value),
        value_range=(0.0, float(max(labels))),
        references=References(
            series_uids=_referenced_series(ds), frame_of_reference=for_uid, own_file=own_file
        ),
    )


def _frame_of_reference(ds: Any) -> str:
    for item in ds.get("ReferencedFrameOfReferenceSequence", []):
        uid = item.get("FrameOfReferenceUID")
        if uid:
            return str(uid)
    for roi in ds.get("StructureSetROISequence", []):
        uid = roi.get("ReferencedFrameOfReferenceUID")
        if uid:
            return str(uid)
    return str(ds.get("FrameOfReferenceUID", "") or "")


def _referenced_series(ds: Any) -> tuple[str, ...]:
    out = []
    for frame in ds.get("ReferencedFrameOfReferenceSequence", []):
        for study in frame.get("RTReferencedStudySequence", []):
            for series in study.get("RTReferencedSeriesSequence", []):
                uid = series.get("SeriesInstanceUID")
                if uid and str(uid) not in out:
                    out.append(str(uid))
    return tuple(out)
