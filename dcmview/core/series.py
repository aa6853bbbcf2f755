"""Files grouped into series, and series into stacks of frames the viewer scrolls (SPEC §9).

A series is the files of one (StudyInstanceUID, SeriesInstanceUID); a file without a Series
Instance UID is a series of its own (nothing says what it belongs with). Single-frame files of a
series form one stack per (Frame of Reference, orientation within ``ORIENTATION_TOLERANCE``,
Rows×Columns), ordered by position along the stack's normal, then InstanceNumber, then path;
a file without a position comes after those with one, by InstanceNumber then path. A
multi-frame file is a stack of its own, its frames ordered by their per-frame Plane Position
when every frame has one and they share one orientation, else in file order.

Pure: records in (in the registry's order, which is the order of series and stacks here),
JSON-ready dicts out. Ids are positions in that order, so they do not change within a session.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .geometry import Geometry, Orientation, Position, along_normal, normal
from .model import FIELD_NAMES, FileRecord

ORIENTATION_TOLERANCE = 1e-4


@dataclass
class _Stack:
    kind: str
    rows: int
    columns: int
    orientation: Orientation | None
    # (file index, frame index, position along the normal in mm or None)
    frames: list[tuple[int, int, float | None]] = field(default_factory=list)
    normal: Position | None = None  # of ``orientation``


@dataclass
class _Series:
    first: int
    record: FileRecord
    stacks: list[_Stack] = field(default_factory=list)
    frames_of_reference: list[str] = field(default_factory=list)
    # (frame of reference, rows, columns) -> orientation clusters of single-frame stacks
    ordinary: dict[tuple[str, int, int], _Clusters] = field(default_factory=dict)


# Where FileRecord.values keeps the fields read here (``record.fields`` makes a dict each time).
_STUDY_UID = FIELD_NAMES.index("study_instance_uid")
_SERIES_UID = FIELD_NAMES.index("series_instance_uid")
_SOP_UID = FIELD_NAMES.index("sop_instance_uid")
_INSTANCE_NUMBER = FIELD_NAMES.index("instance_number")


def series_list(records: Sequence[FileRecord]) -> list[dict[str, Any]]:
    """The ``series`` list of ``GET /api/series`` for the registry ``records`` (index = file
    index). Files without usable pixels are in no stack; a series without stacks is left out."""
    groups: dict[tuple[str, str] | int, _Series] = {}
    for index, record in enumerate(records):
        layout = record.layout
        if layout is None or layout.frame_count < 1:
            continue
        values = record.values
        series_uid = values[_SERIES_UID] or ""
        key: tuple[str, str] | int = (values[_STUDY_UID] or "", series_uid) if series_uid else index
        series = groups.get(key)
        if series is None:
            series = groups[key] = _Series(first=index, record=record)
        geometry = record.geometry
        for_uid = geometry.frame_of_reference_uid if geometry is not None else ""
        if for_uid and for_uid not in series.frames_of_reference:
            series.frames_of_reference.append(for_uid)
        if layout.frame_count > 1:
            series.stacks.append(_multiframe_stack(index, record))
            continue
        orientation = geometry.frame_orientation(0) if geometry is not None else None
        position = geometry.frame_position(0) if geometry is not None else None
        plane = (for_uid, layout.rows, layout.columns)
        clusters = series.ordinary.get(plane)
        if clusters is None:
            clusters = series.ordinary[plane] = _Clusters()
        stack = clusters.find(orientation)
        if stack is None:
            stack = _Stack("ordinary", layout.rows, layout.columns, orientation)
            stack.normal = normal(orientation)
            clusters.add(orientation, stack)
            series.stacks.append(stack)
        stack.frames.append((index, 0, along_normal(position, stack.normal)))
    out: list[dict[str, Any]] = []
    stack_ids = itertools.count()
    for series in groups.values():
        stacks = []
        for stack in series.stacks:
            if stack.kind == "ordinary":
                stack.frames.sort(key=lambda f: _ordinary_key(f, records))
            stacks.append(_stack_json(f"stack-{next(stack_ids)}", stack, records))
        out.append(_series_json(f"series-{len(out)}", series, stacks))
    return out


def _ordinary_key(
    frame: tuple[int, int, float | None], records: Sequence[FileRecord]
) -> tuple[Any, ...]:
    index, _, position = frame
    record = records[index]
    instance = record.values[_INSTANCE_NUMBER]
    return (
        position is None,
        position if position is not None else 0.0,
        instance is None,
        instance if instance is not None else 0,
        record.path,
    )


def _multiframe_stack(index: int, record: FileRecord) -> _Stack:
    """One multi-frame file as a stack: by per-frame plane position when it is known for every
    frame and the frames share one orientation, else in file order."""
    layout = record.layout
    assert layout is not None
    geometry = record.geometry
    count = layout.frame_count
    groups = geometry.frames if geometry is not None else None
    orientation = geometry.orientation if geometry is not None else None
    stack = _Stack("multiframe", layout.rows, layout.columns, orientation)
    if geometry is None or groups is None or groups.positions is None:
        stack.frames = [(index, f, None) for f in range(count)]
        return stack
    positions = [
        along_normal(geometry.frame_position(f), normal(geometry.frame_orientation(f)))
        for f in range(count)
    ]
    stack.frames = [(index, f, positions[f]) for f in range(count)]
    if all(p is not None for p in positions) and _one_orientation(geometry, count):
        stack.frames.sort(key=lambda f: (f[2], f[1]))
    return stack


def _one_orientation(geometry: Geometry, count: int) -> bool:
    first = geometry.frame_orientation(0)
    return first is not None and all(
        _close(first, geometry.frame_orientation(f)) for f in range(1, count)
    )


def _stack_json(stack_id: str, stack: _Stack, records: Sequence[FileRecord]) -> dict[str, Any]:
    frames = []
    for virtual, (index, frame, position) in enumerate(stack.frames):
        values = records[index].values
        frames.append(
            {
                "virtual_index": virtual,
                "file_index": index,
                "frame_index": frame,
                "sop_instance_uid": values[_SOP_UID],
                "instance_number": values[_INSTANCE_NUMBER],
                "position_along_normal_mm": _mm(position),
            }
        )
    return {
        "id": stack_id,
        "kind": stack.kind,
        "rows": stack.rows,
        "columns": stack.columns,
        "frames": frames,
    }


def _series_json(series_id: str, series: _Series, stacks: list[dict[str, Any]]) -> dict[str, Any]:
    fields = series.record.fields
    return {
        "id": series_id,
        "study_instance_uid": fields.get("study_instance_uid", ""),
        "series_instance_uid": fields.get("series_instance_uid", ""),
        "series_number": fields.get("series_number"),
        "series_description": fields.get("series_description", ""),
        "modality": fields.get("modality", ""),
        "frame_of_reference_uids": list(series.frames_of_reference),
        "stacks": stacks,
    }


def _mm(position: float | None) -> float | None:
    """A position as JSON: rounded to 1e-6 mm so float noise of the dot product is not shown."""
    if position is None or not math.isfinite(position):
        return None
    return round(position, 6) + 0.0


def _close(a: Orientation | None, b: Orientation | None) -> bool:
    if a is None or b is None:
        return a is b
    return all(abs(x - y) <= ORIENTATION_TOLERANCE for x, y in zip(a, b, strict=True))


class _Clusters:
    """Stacks of one series keyed by orientation, matched within the tolerance.

    A file joins the earliest stack whose first orientation is within the tolerance of its own.
    Exact repeats (the usual case) are a dict hit; otherwise a few stacks are compared one by
    one, and many (a series of many distinct orientations) through a grid of tolerance-sized
    cells (a match differs by at most one cell per component), never pairwise.
    """

    _GRID_FROM = 16

    def __init__(self) -> None:
        self.exact: dict[Orientation | None, _Stack] = {}
        self.stacks: list[_Stack] = []
        self.rank: dict[int, int] = {}  # id(stack) -> creation order
        self.cells: dict[tuple[int, ...], list[_Stack]] = {}

    def find(self, orientation: Orientation | None) -> _Stack | None:
        stack = self.exact.get(orientation)
        if stack is not None or orientation is None:
            return stack
        if len(self.stacks) < self._GRID_FROM:
            candidates = self.stacks
        else:
            candidates = [s for c in _neighbours(_cell(orientation)) for s in self.cells.get(c, ())]
        matches = [s for s in candidates if _close(s.orientation, orientation)]
        if not matches:
            return None
        stack = min(matches, key=lambda s: self.rank[id(s)])
        self.exact[orientation] = stack
        return stack

    def add(self, orientation: Orientation | None, stack: _Stack) -> None:
        self.exact[orientation] = stack
        self.rank[id(stack)] = len(self.stacks)
        self.stacks.append(stack)
        if orientation is not None:
            self.cells.setdefault(_cell(orientation), []).append(stack)


def _cell(orientation: Orientation) -> tuple[int, ...]:
    return tuple(math.floor(v / ORIENTATION_TOLERANCE) for v in orientation)


def _neighbours(cell: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
    return itertools.product(*((c - 1, c, c + 1) for c in cell))
