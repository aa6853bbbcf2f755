"""What a layer is (SPEC §10): data drawn over a stack, and where that data lies.

A reader turns its input (a SEG, RTSTRUCT, RT Dose, Parametric Map, NIfTI, a numpy array, the
overlay planes of a file) into a :class:`LayerSource`: values and how they are placed, either
by geometry (:class:`PlaneStack`, :class:`AffineVolume`, :class:`ContourSet`) or index to index
(:class:`IndexedSlices`). :mod:`.placement` matches a source with a stack; :mod:`.store` keeps
the placed layers of a session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

Vector = tuple[float, float, float]
KINDS = ("labels", "contours", "heatmap")

# Distinct colours for labels that bring none (Tableau 10 and a few more), by label value.
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#17becf",
    "#ffdd00",
    "#00ff7f",
    "#ff00ff",
)


class LayerError(ValueError):
    """Input that cannot become a layer; the message says why, for the user."""


@dataclass(frozen=True)
class Label:
    """One value of a label map: its name and its sRGB colour ``#rrggbb``."""

    value: int
    name: str
    color: str

    def as_json(self) -> dict[str, Any]:
        return {"value": self.value, "name": self.name, "color": self.color}


def default_color(value: int) -> str:
    return PALETTE[(value - 1) % len(PALETTE)]


def hex_color(rgb: Sequence[float]) -> str:
    """``#rrggbb`` of 0-255 components (clipped)."""
    r, g, b = (max(0, min(255, round(float(c)))) for c in rgb[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


@dataclass(frozen=True, eq=False)
class PlaneStack:
    """Parallel 2-D slices in patient space (LPS, mm): ``data`` is (slices, rows, columns).

    ``positions`` (slices, 3) are the centres of each slice's first pixel; ``row_cosines`` is
    the direction of increasing column index, ``column_cosines`` of increasing row index
    (DICOM's Image Orientation order); ``spacing`` is (between rows, between columns) in mm.
    """

    frame_of_reference: str
    data: npt.NDArray[Any]
    positions: npt.NDArray[np.float64]
    row_cosines: npt.NDArray[np.float64]
    column_cosines: npt.NDArray[np.float64]
    spacing: tuple[float, float]
    # The distance between slices that placement allows half of (see AffineVolume).
    slice_spacing: float | None = None
    sparse: bool = False

    @property
    def normal(self) -> npt.NDArray[np.float64]:
        n = np.cross(self.row_cosines, self.column_cosines)
        return np.asarray(n / np.linalg.norm(n), dtype=np.float64)


@dataclass(frozen=True, eq=False)
class AffineVolume:
    """A 3-D array whose voxel (i, j, k) lies at ``affine @ (i, j, k, 1)`` in LPS mm (NIfTI's
    RAS already turned to LPS). Which axis runs through the slices depends on the stack it is
    drawn over: :func:`.placement.as_plane_stack` decides."""

    frame_of_reference: str  # "" when unknown (NIfTI): any stack whose planes it meets
    data: npt.NDArray[Any]
    affine: npt.NDArray[np.float64]
    # The slices' own spacing when the affine's step is not it: a SEG stores only the frames
    # with a segment, so two frames 20 mm apart would otherwise each claim ±10 mm of images.
    # None: the affine's step for a dense volume (NIfTI); for a ``sparse`` one (the frames a
    # SEG stores), the spacing of the images it is drawn on.
    slice_spacing: float | None = None
    sparse: bool = False


@dataclass(frozen=True, eq=False)
class IndexedSlices:
    """Slices that map index to index onto a stack (or onto the frames of one file)."""

    data: npt.NDArray[Any]  # (slices, rows, columns)
    file_index: int | None = None  # slice i is that file's frame i; None: the stack's index i
    # Where slice (0, 0) lands in the image (row, column): overlay planes have an origin.
    offset: tuple[int, int] = (0, 0)
    # The file's frame slice 0 lies on (a multi-frame overlay's Image Frame Origin, 0-based).
    first_frame: int = 0


@dataclass(frozen=True)
class Contour:
    """One closed polygon of an RTSTRUCT ROI, in patient space (points (n, 3) LPS mm)."""

    value: int
    points: npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class ContourSet:
    frame_of_reference: str
    contours: tuple[Contour, ...]


Placement = PlaneStack | AffineVolume | IndexedSlices | ContourSet


@dataclass(frozen=True)
class References:
    """What a DICOM layer says it was drawn on (empty for arrays and NIfTI)."""

    series_uids: tuple[str, ...] = ()
    frame_of_reference: str = ""
    own_file: int | None = None  # the file the layer comes from (it never draws on itself)


@dataclass(eq=False)
class LayerSource:
    """A layer before it is placed on a stack: what a reader returns."""

    name: str
    kind: str  # one of KINDS
    source: str  # "seg", "rtstruct", "rtdose", "pmap", "nifti", "array", "overlay"
    placement: Placement | None
    labels: list[Label] = field(default_factory=list)
    units: str = ""
    value_range: tuple[float, float] | None = None
    references: References = field(default_factory=References)
    # Set when the input was read but cannot be drawn (the layer is listed with it).
    problem: str | None = None


def label_dtype(max_value: int) -> np.dtype[Any]:
    """The label map type the API serves: uint8 when every value fits, else uint16."""
    return np.dtype(np.uint8) if max_value < 256 else np.dtype(np.uint16)


def value_range(data: npt.NDArray[Any]) -> tuple[float, float] | None:
    """[min, max] of the finite values of ``data``; None when it has none."""
    if data.size == 0:
        return None
    lo, hi = float(data.min()), float(data.max())
    if data.dtype.kind == "f" and not (np.isfinite(lo) and np.isfinite(hi)):
        finite = data[np.isfinite(data)]  # slow (a copy): only when NaN or inf are there
        if finite.size == 0:
            return None
        return float(finite.min()), float(finite.max())
    return lo, hi


def labels_of(data: npt.NDArray[Any], names: dict[int, str] | None = None) -> list[Label]:
    """One :class:`Label` per non-zero value present in ``data`` (default names and colours)."""
    values = np.unique(data)
    return [
        Label(int(v), (names or {}).get(int(v), f"Label {int(v)}"), default_color(int(v)))
        for v in values
        if v != 0
    ]


def frame_spacing(ds: Any) -> float | None:
    """The slice spacing an enhanced multi-frame object (SEG, Parametric Map) states in its
    shared Pixel Measures: Spacing Between Slices, else Slice Thickness (None: neither)."""
    for item in ds.get("SharedFunctionalGroupsSequence", [])[:1]:
        for measures in item.get("PixelMeasuresSequence", [])[:1]:
            for keyword in ("SpacingBetweenSlices", "SliceThickness"):
                try:
                    value = float(measures.get(keyword) or 0)
                except (TypeError, ValueError):
                    continue
                if value > 0:
                    return value
    return None
