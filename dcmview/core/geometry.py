"""Where images lie in the patient, and what enhanced multi-frame files say per frame.

Read once at discovery from the header: Frame of Reference, Image Orientation/Position
(Patient), and for enhanced multi-frame files the functional groups (PS3.3 C.7.6.16) Plane
Position, Plane Orientation, Pixel Value Transformation (rescale) and Frame VOI LUT (window),
shared and per frame. A value that holds for every frame is kept once (in the file's
:class:`Geometry` or :class:`PixelLayout`); only values that vary are kept per frame, as small
float arrays, so a 10,000-file scan of single-frame files keeps a few tuples per file.

Nothing here fails a file: a damaged or missing value is simply not known.
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from .model import PixelLayout, Window

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

    from .model import FileRecord
    from .plain_header import HeaderValues

FloatArray = npt.NDArray[np.float64]
Orientation = tuple[float, float, float, float, float, float]
Position = tuple[float, float, float]


@dataclass(frozen=True, eq=False, slots=True)
class FrameGroups:
    """Functional-group values that differ between the frames of an enhanced file.

    One row per frame (NaN where a frame gives no value); an array is None when its values are
    the same for every frame (they are then in the file's Geometry or PixelLayout).
    ``positions`` is (frames, 3) mm, ``orientations`` (frames, 6) direction cosines,
    ``rescales`` (frames, 2) slope and intercept, ``windows`` (frames, 2) center and width.
    """

    positions: FloatArray | None = None
    orientations: FloatArray | None = None
    rescales: FloatArray | None = None
    windows: FloatArray | None = None


@dataclass(frozen=True, eq=False, slots=True)
class Geometry:
    """The patient geometry of one file (None fields: the header does not say)."""

    frame_of_reference_uid: str
    orientation: Orientation | None
    position: Position | None
    frames: FrameGroups | None = None

    def frame_position(self, frame: int) -> Position | None:
        """Image Position (Patient) of ``frame``: its own plane position, else the file's."""
        row = _row(self.frames.positions if self.frames else None, frame)
        return position_of(row) if row is not None else self.position

    def frame_orientation(self, frame: int) -> Orientation | None:
        """Image Orientation (Patient) of ``frame``: its own, else the file's."""
        row = _row(self.frames.orientations if self.frames else None, frame)
        return _orientation(row) if row is not None else self.orientation


def read_geometry(
    values: HeaderValues, layout: PixelLayout | None
) -> tuple[Geometry | None, PixelLayout | None]:
    """The file's geometry, and ``layout`` with the functional groups' pixel values that hold
    for every frame (rescale, window): per-frame and shared groups win over the top level."""
    try:
        return _read_geometry(values, layout)
    except Exception:  # values pydicom cannot convert: no geometry, the file still loads
        return None, layout


def _read_geometry(
    values: HeaderValues, layout: PixelLayout | None
) -> tuple[Geometry | None, PixelLayout | None]:
    for_uid = values.get("FrameOfReferenceUID")
    orientation = _orientation(values.get("ImageOrientationPatient"))
    position = position_of(values.get("ImagePositionPatient"))
    groups = None
    if values.has("SharedFunctionalGroupsSequence") or values.has(
        "PerFrameFunctionalGroupsSequence"
    ):
        frame_count = layout.frame_count if layout is not None else 1
        found = _group_values(values.dataset(), frame_count)
        if found is not None:
            positions, orientations, rescales, windows = found
            if orientations is not None:
                orientations, uniform = _fold(orientations)
                orientation = _orientation(uniform) if uniform is not None else orientation
            if positions is not None and frame_count == 1:
                position, positions = position_of(positions[0]) or position, None
            rescales, rescale = _fold(rescales) if rescales is not None else (None, None)
            windows, window = _fold(windows) if windows is not None else (None, None)
            layout = _with_values(layout, rescale, window)
            if any(a is not None for a in (positions, orientations, rescales, windows)):
                groups = FrameGroups(positions, orientations, rescales, windows)
    uid = sys.intern(str(for_uid).strip()) if isinstance(for_uid, str) else ""
    if not uid and orientation is None and position is None and groups is None:
        return None, layout
    return Geometry(uid, orientation, position, groups), layout


def frame_layout(record: FileRecord, frame: int) -> PixelLayout:
    """The pixel layout of one frame: the file's, with that frame's own rescale and window."""
    layout = record.layout
    assert layout is not None
    groups = record.geometry.frames if record.geometry is not None else None
    if groups is None:
        return layout
    rescale = _row(groups.rescales, frame)
    window = _row(groups.windows, frame)
    return _with_values(layout, rescale, window) or layout


def normal(orientation: Orientation | None) -> Position | None:
    """The unit normal (row cosines × column cosines) of an orientation, None if degenerate."""
    if orientation is None:
        return None
    rx, ry, rz, cx, cy, cz = orientation
    nx, ny, nz = ry * cz - rz * cy, rz * cx - rx * cz, rx * cy - ry * cx
    length = math.sqrt(nx * nx + ny * ny + nz * nz)
    if length < 1e-6:
        return None
    return nx / length, ny / length, nz / length


def along_normal(position: Position | None, unit_normal: Position | None) -> float | None:
    """Distance in mm of a plane through ``position`` from the origin, along ``unit_normal``."""
    if position is None or unit_normal is None:
        return None
    (px, py, pz), (nx, ny, nz) = position, unit_normal
    return px * nx + py * ny + pz * nz


# -- reading -------------------------------------------------------------------------------
_SHARED = 0x52009229
_PER_FRAME = 0x52009230
# (sequence, attributes, columns of the value array) of each functional group read here.
_GROUPS = (
    ("PlanePositionSequence", ("ImagePositionPatient",), 3),
    ("PlaneOrientationSequence", ("ImageOrientationPatient",), 6),
    ("PixelValueTransformationSequence", ("RescaleSlope", "RescaleIntercept"), 2),
    ("FrameVOILUTSequence", ("WindowCenter", "WindowWidth"), 2),
)


def _group_values(ds: Dataset, frame_count: int) -> list[FloatArray | None] | None:
    """One (frames, columns) array per entry of ``_GROUPS`` (None: no frame has it)."""
    try:
        shared = _items(ds.get(_SHARED))[:1]
        per_frame = _items(ds.get(_PER_FRAME))[:frame_count]
    except Exception:  # a damaged sequence: the groups are unknown, the file still loads
        return None
    out: list[FloatArray | None] = []
    for sequence, keywords, columns in _GROUPS:
        common = _group_row(shared[0], sequence, keywords, columns) if shared else None
        rows = [_group_row(item, sequence, keywords, columns) for item in per_frame]
        if common is None and all(r is None for r in rows):
            out.append(None)
            continue
        fallback = common if common is not None else [math.nan] * columns
        table = [fallback] * frame_count
        for i, row in enumerate(rows):
            if row is not None:
                table[i] = row
        out.append(np.array(table, dtype=np.float64))
    return out


def _items(element: Any) -> Sequence[Any]:
    value = getattr(element, "value", None)
    return value if isinstance(value, Sequence) and not isinstance(value, (str, bytes)) else ()


def _group_row(
    item: Any, sequence: str, keywords: tuple[str, ...], columns: int
) -> list[float] | None:
    from .header_values import header_value

    try:
        group = item.get(sequence)
        if not group:
            return None
        inner = group[0]
        if len(keywords) == 1:
            numbers = _numbers(header_value(inner, keywords[0]))
        else:  # one number each: the first window of a Frame VOI LUT that lists several
            numbers = [(_numbers(header_value(inner, k)) or [math.nan])[0] for k in keywords]
    except Exception:
        return None
    if len(numbers) != columns or not all(math.isfinite(n) for n in numbers):
        return None
    return numbers


def _numbers(value: Any) -> list[float]:
    if isinstance(value, np.ndarray):
        return [float(v) for v in value]
    if value is None or value == "":
        return []
    single = isinstance(value, (str, bytes)) or not hasattr(value, "__iter__")
    values = [value] if single else value
    try:
        return [float(v) for v in values]
    except (TypeError, ValueError):
        return [math.nan]


def _fold(table: FloatArray) -> tuple[FloatArray | None, FloatArray | None]:
    """``(None, the row)`` when every frame has the same row, else ``(table, None)``."""
    first = table[0]
    if np.isfinite(first).all() and bool((table == first).all()):
        return None, first
    return table, None


def _with_values(
    layout: PixelLayout | None, rescale: FloatArray | None, window: FloatArray | None
) -> PixelLayout | None:
    if layout is None:
        return None
    changes: dict[str, Any] = {}
    if rescale is not None and np.isfinite(rescale).all() and rescale[0] != 0:
        changes["rescale_slope"] = float(rescale[0])
        changes["rescale_intercept"] = float(rescale[1])
    if window is not None and np.isfinite(window).all() and window[1] > 0:
        changes["default_window"] = Window(center=float(window[0]), width=float(window[1]))
    return replace(layout, **changes) if changes else layout


def _row(table: FloatArray | None, frame: int) -> FloatArray | None:
    if table is None or not 0 <= frame < len(table):
        return None
    row = table[frame]
    return row if np.isfinite(row).all() else None


def _orientation(value: Any) -> Orientation | None:
    numbers = _finite(value, 6)
    return _shared_orientation(tuple(numbers)) if numbers is not None else None


def position_of(value: Any) -> Position | None:
    """Image Position (Patient) as three finite numbers, else None."""
    if type(value) is list and len(value) == 3:  # as read from a header: a scan's hot path
        try:
            x, y, z = float(value[0]), float(value[1]), float(value[2])
        except (TypeError, ValueError):
            return None
        isfinite = math.isfinite
        return (x, y, z) if isfinite(x) and isfinite(y) and isfinite(z) else None
    numbers = _finite(value, 3)
    return (numbers[0], numbers[1], numbers[2]) if numbers is not None else None


def _finite(value: Any, count: int) -> list[float] | None:
    if value is None:
        return None
    numbers = _numbers(value)
    if len(numbers) != count or not all(math.isfinite(n) for n in numbers):
        return None
    return numbers


@functools.lru_cache(maxsize=1024)
def _shared_orientation(orientation: Orientation) -> Orientation:
    """One tuple object per distinct orientation: a series' files share it in memory."""
    return orientation
