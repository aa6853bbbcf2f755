"""Where a layer's slices land on a stack's images (SPEC §10).

By geometry: a layer slice is drawn on an image when both lie in the same Frame of Reference,
their planes are parallel, and the slice lies within half the layer's slice spacing of the
image's plane along the normal; its pixels are then resampled onto the image's pixel grid
(nearest neighbour, through the patient coordinates of both). An image that no slice meets
gets nothing — never the nearest wrong slice. Index to index: arrays of the stack's exact
shape, and the overlay planes of a file onto its own frames.

Pure: stacks come from the session's series list and records; no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..model import FileRecord
from .model import AffineVolume, ContourSet, IndexedSlices, PlaneStack

# Planes whose normals differ by more than ~2.5° are not parallel (cos 2.5° = 0.99905).
PARALLEL_COS = 0.999
# A transform within this of the identity is the identity: the layer shares the image's grid.
_IDENTITY_TOL = 1e-3
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class ImagePlane:
    """One image of a stack in patient space: first pixel centre, cosines, spacing (row, col)."""

    origin: FloatArray
    row_cosines: FloatArray
    column_cosines: FloatArray
    spacing: tuple[float, float]

    @property
    def normal(self) -> FloatArray:
        n = np.cross(self.row_cosines, self.column_cosines)
        return np.asarray(n / np.linalg.norm(n), dtype=np.float64)

    def point(self, row: float, column: float) -> FloatArray:
        """Patient coordinates of the pixel centre (row, column)."""
        return np.asarray(
            self.origin
            + column * self.spacing[1] * self.row_cosines
            + row * self.spacing[0] * self.column_cosines,
            dtype=np.float64,
        )


@dataclass(frozen=True, eq=False)
class StackInfo:
    """What placement needs to know of one stack of ``GET /api/series``."""

    id: str
    series_uid: str
    frame_of_reference: str
    rows: int
    columns: int
    frames: tuple[tuple[int, int], ...]  # (file index, frame index) by virtual index
    planes: tuple[ImagePlane | None, ...]

    @property
    def shape(self) -> tuple[int, int, int]:
        return (len(self.frames), self.rows, self.columns)

    def slice_spacing(self) -> float | None:
        """The typical distance between neighbouring images along the normal (mm)."""
        planes = [p for p in self.planes if p is not None]
        if len(planes) < 2:
            return None
        n = planes[0].normal
        return _spacing(np.array([p.origin @ n for p in planes]))


@dataclass(frozen=True)
class SliceMatch:
    """Image → layer slice ``index``; ``transform`` maps (row, column, 1) of the image to
    (row, column) of the slice (None: the same grid, pixel for pixel)."""

    index: int
    transform: FloatArray | None = None


@dataclass(frozen=True)
class ContourMatch:
    """The contours (indices into the ContourSet) lying on one image, and its plane."""

    contours: tuple[int, ...]
    plane: ImagePlane


Match = SliceMatch | ContourMatch


def stacks_of(series: Sequence[dict[str, Any]], records: Sequence[FileRecord]) -> list[StackInfo]:
    """Every stack of the session's series list, with the plane of each of its images."""
    out = []
    for item in series:
        for stack in item["stacks"]:
            frames = tuple((f["file_index"], f["frame_index"]) for f in stack["frames"])
            planes = tuple(_image_plane(records[i], f) for i, f in frames)
            geometry = records[frames[0][0]].geometry if frames else None
            out.append(
                StackInfo(
                    id=stack["id"],
                    series_uid=item["series_instance_uid"],
                    frame_of_reference=geometry.frame_of_reference_uid if geometry else "",
                    rows=stack["rows"],
                    columns=stack["columns"],
                    frames=frames,
                    planes=planes,
                )
            )
    return out


def _image_plane(record: FileRecord, frame: int) -> ImagePlane | None:
    geometry, layout = record.geometry, record.layout
    if geometry is None or layout is None or layout.pixel_spacing is None:
        return None
    position = geometry.frame_position(frame)
    orientation = geometry.frame_orientation(frame)
    if position is None or orientation is None:
        return None
    row = np.array(orientation[:3], dtype=np.float64)
    column = np.array(orientation[3:], dtype=np.float64)
    if np.linalg.norm(np.cross(row, column)) < 1e-6:
        return None
    return ImagePlane(np.array(position, dtype=np.float64), row, column, layout.pixel_spacing)


def place(
    placement: PlaneStack | AffineVolume | IndexedSlices | ContourSet, stack: StackInfo
) -> list[Match | None]:
    """For each image of ``stack`` (by virtual index), what of the layer is drawn on it."""
    if isinstance(placement, IndexedSlices):
        return _place_indexed(placement, stack)
    if placement.frame_of_reference and placement.frame_of_reference != stack.frame_of_reference:
        return [None] * len(stack.frames)
    if isinstance(placement, ContourSet):
        return _place_contours(placement, stack)
    if isinstance(placement, AffineVolume):
        placement = as_plane_stack(placement, stack)
    return [_match_plane(placement, plane, stack) for plane in stack.planes]


def as_plane_stack(volume: AffineVolume, stack: StackInfo) -> PlaneStack:
    """``volume`` cut into slices along the voxel axis closest to the stack's normal, its rows
    and columns along the axes closest to the images' rows and columns."""
    axes = volume.affine[:3, :3]
    lengths = np.linalg.norm(axes, axis=0)
    if np.any(lengths < 1e-9):
        raise ValueError("the affine is degenerate (an axis of zero length)")
    units = axes / lengths
    reference = next((p for p in stack.planes if p is not None), None)
    if reference is None:
        through, down, across = 2, 0, 1
    else:
        through = int(np.argmax(np.abs(units.T @ reference.normal)))
        rest = [a for a in range(3) if a != through]
        down_score = np.abs(units[:, rest].T @ reference.column_cosines)
        down = rest[int(np.argmax(down_score))]
        across = next(a for a in rest if a != down)
    data = np.transpose(volume.data, (through, down, across))
    count = data.shape[0]
    positions = volume.affine[:3, 3][None, :] + np.arange(count)[:, None] * axes[:, through]
    return PlaneStack(
        frame_of_reference=volume.frame_of_reference,
        data=data,
        positions=positions,
        row_cosines=units[:, across],
        column_cosines=units[:, down],
        spacing=(float(lengths[down]), float(lengths[across])),
        slice_spacing=volume.slice_spacing or (None if volume.sparse else float(lengths[through])),
        sparse=volume.sparse,
    )


def _match_plane(
    layer: PlaneStack, image: ImagePlane | None, stack: StackInfo
) -> SliceMatch | None:
    if image is None or layer.data.shape[0] == 0:
        return None
    normal = layer.normal
    if abs(float(image.normal @ normal)) < PARALLEL_COS:
        return None
    distances = layer.positions @ normal
    own, images = _spacing(distances), stack.slice_spacing()
    spacing = layer.slice_spacing or ((images or own) if layer.sparse else (own or images)) or 1.0
    offsets = np.abs(distances - image.origin @ normal)
    index = int(np.argmin(offsets))
    # Every corner of the image, not only its first pixel, within half a spacing of the slice:
    # planes a degree apart drift by millimetres across a wide image.
    last_row, last_column = stack.rows - 1, stack.columns - 1
    corners = [image.point(r, c) for r in (0, last_row) for c in (0, last_column)]
    if max(abs(float(p @ normal) - distances[index]) for p in corners) > spacing / 2 + 1e-6:
        return None
    relative = image.origin - layer.positions[index]
    transform = np.empty((2, 3), dtype=np.float64)
    for out, axis, step in ((0, layer.column_cosines, layer.spacing[0]),
                            (1, layer.row_cosines, layer.spacing[1])):  # fmt: skip
        transform[out] = (
            image.spacing[0] * (image.column_cosines @ axis) / step,
            image.spacing[1] * (image.row_cosines @ axis) / step,
            (relative @ axis) / step,
        )
    same_shape = layer.data.shape[1:] == (stack.rows, stack.columns)
    if same_shape and np.allclose(transform, _IDENTITY, atol=_IDENTITY_TOL):
        return SliceMatch(index)
    return SliceMatch(index, transform)


_IDENTITY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def _place_indexed(layer: IndexedSlices, stack: StackInfo) -> list[Match | None]:
    count, rows, columns = layer.data.shape
    shift = layer.offset != (0, 0) or (rows, columns) != (stack.rows, stack.columns)
    transform = None
    if shift:
        transform = np.array([[1.0, 0.0, -layer.offset[0]], [0.0, 1.0, -layer.offset[1]]])
    out: list[Match | None] = []
    for virtual, (file_index, frame) in enumerate(stack.frames):
        index = virtual if layer.file_index is None else frame - layer.first_frame
        mine = layer.file_index is None or file_index == layer.file_index
        out.append(SliceMatch(index, transform) if mine and 0 <= index < count else None)
    return out


def _place_contours(layer: ContourSet, stack: StackInfo) -> list[Match | None]:
    half = (stack.slice_spacing() or 1.0) / 2 + 1e-6
    out: list[Match | None] = []
    for plane in stack.planes:
        if plane is None:
            out.append(None)
            continue
        normal = plane.normal
        level = plane.origin @ normal
        on = tuple(
            i
            for i, contour in enumerate(layer.contours)
            if np.all(np.abs(contour.points @ normal - level) <= half)
        )
        out.append(ContourMatch(on, plane) if on else None)
    return out


def resample(
    data: npt.NDArray[Any], match: SliceMatch, shape: tuple[int, int], fill: float = 0
) -> npt.NDArray[Any]:
    """The layer slice ``match.index`` of ``data`` on an image grid of ``shape`` (nearest
    neighbour; pixels outside the slice get ``fill``)."""
    source = data[match.index]
    if match.transform is None:
        return np.ascontiguousarray(source)
    t = match.transform
    rows = np.arange(shape[0], dtype=np.float64)[:, None]
    columns = np.arange(shape[1], dtype=np.float64)[None, :]
    src_rows = np.floor(t[0, 0] * rows + t[0, 1] * columns + t[0, 2] + 0.5).astype(np.int64)
    src_columns = np.floor(t[1, 0] * rows + t[1, 1] * columns + t[1, 2] + 0.5).astype(np.int64)
    inside = (
        (src_rows >= 0)
        & (src_rows < source.shape[0])
        & (src_columns >= 0)
        & (src_columns < source.shape[1])
    )
    out = np.full(shape, fill, dtype=source.dtype)
    out[inside] = source[src_rows[inside], src_columns[inside]]
    return out


def pixel_points(points: FloatArray, plane: ImagePlane) -> FloatArray:
    """Patient points (n, 3) as (x = column, y = row) pixel coordinates on ``plane``."""
    relative = points - plane.origin
    x = relative @ plane.row_cosines / plane.spacing[1]
    y = relative @ plane.column_cosines / plane.spacing[0]
    return np.stack([x, y], axis=1)


def _spacing(distances: FloatArray) -> float | None:
    """The median step between distinct sorted distances (None for fewer than two)."""
    unique = np.unique(np.round(distances, 4))
    if unique.size < 2:
        return None
    return float(np.median(np.diff(unique)))
