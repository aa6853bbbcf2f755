"""The layers of one session: placed on their stacks, listed, served frame by frame.

A layer read from a DICOM object attaches to the stack it references (its referenced series,
else its Frame of Reference); a NIfTI to the stack its affine meets best; an array to the
stack (or file) it is given for. A layer that cannot be drawn is still listed, with its
``problem``. Every change (add, remove, opacity, visibility) bumps :attr:`LayerStore.version`
so that viewers know to list the layers again.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..cache import ByteLRU
from ..errors import FrameOutOfRange, NotFound
from ..model import FileRecord
from .contours import filled, polygons
from .detect import DOCUMENT_SOURCES
from .model import AffineVolume, ContourSet, LayerSource, PlaneStack
from .placement import (
    ContourMatch,
    Match,
    SliceMatch,
    StackInfo,
    as_plane_stack,
    place,
    resample,
)

FRAME_CACHE_BYTES = 64 * 1024 * 1024
COLORMAPS = ("hot", "viridis", "gray")


@dataclass(frozen=True)
class LayerFrame:
    """One layer slice on one image: little-endian samples and what they are."""

    body: bytes
    rows: int
    columns: int
    dtype: str  # "uint8", "uint16" or "float32"


@dataclass(eq=False)
class Layer:
    id: str
    source: LayerSource
    stack: StackInfo | None
    matches: list[Match | None] = field(default_factory=list)
    opacity: float = 0.5
    visible: bool = True
    colormap: str = "hot"

    @property
    def problem(self) -> str | None:
        return self.source.problem

    def as_json(self) -> dict[str, Any]:
        s = self.source
        return {
            "id": self.id,
            "name": s.name,
            "kind": s.kind,
            "source": s.source,
            "stack_id": self.stack.id if self.stack is not None else None,
            "labels": [label.as_json() for label in s.labels],
            "value_range": list(s.value_range) if s.value_range is not None else None,
            "units": s.units,
            "opacity": self.opacity,
            "visible": self.visible,
            "colormap": self.colormap if s.kind == "heatmap" else None,
            "matched_frames": sum(1 for m in self.matches if m is not None),
            # The images with a slice (the viewer asks for no other: those answer 204).
            "frames": [v for v, m in enumerate(self.matches) if m is not None],
            "problem": s.problem,
        }


class LayerStore:
    """Layers over the stacks of one session's records (thread-safe)."""

    def __init__(self, records: Sequence[FileRecord], stacks: Sequence[StackInfo]) -> None:
        self.records = records
        self.stacks = list(stacks)
        self.version = 0
        self._layers: dict[str, Layer] = {}
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self._frames: ByteLRU[LayerFrame] = ByteLRU(FRAME_CACHE_BYTES)
        self._listeners: list[Callable[[], None]] = []

    # -- stacks -------------------------------------------------------------------------
    def stack(self, stack_id: str) -> StackInfo:
        for stack in self.stacks:
            if stack.id == stack_id:
                return stack
        raise NotFound(f"no stack {stack_id!r}; the stacks are listed by /api/series")

    def stack_of_file(self, index: int) -> StackInfo:
        for stack in self.stacks:
            if any(file_index == index for file_index, _ in stack.frames):
                return stack
        raise NotFound(f"file {index} is in no stack (it has no pixel data that can be shown)")

    def _targets(self, source: LayerSource) -> list[StackInfo]:
        """Stacks a layer may be drawn on: not the layer's own file, nor other layer objects."""
        own = source.references.own_file
        out = []
        for stack in self.stacks:
            files = {i for i, _ in stack.frames}
            if own in files and source.source != "overlay":
                continue
            if any(self.records[i].layer_source in DOCUMENT_SOURCES for i in files):
                continue
            out.append(stack)
        return out

    # -- changes ------------------------------------------------------------------------
    def attach(self, source: LayerSource, **options: Any) -> Layer:
        """Add a layer read from a file, on the stack it references or meets best."""
        if source.problem is not None or source.placement is None:
            return self._add(Layer(self._next_id(), source, None))
        stack, matches, problem = self._choose(source)
        if problem is not None:
            source.problem = problem
        layer = Layer(self._next_id(), source, stack, matches)
        return self._add(self._configure(layer, **options))

    def add(self, source: LayerSource, stack: StackInfo, **options: Any) -> Layer:
        """Add a layer on ``stack`` (the caller checked the shape or geometry)."""
        assert source.placement is not None
        matches = self._place(source, stack)
        if not any(matches):
            source.problem = _no_match(source)
        return self._add(self._configure(Layer(self._next_id(), source, stack, matches), **options))

    def remove(self, layer_id: str) -> None:
        with self._lock:
            if self._layers.pop(layer_id, None) is None:
                raise NotFound(f"no layer {layer_id!r}")
        self._changed()

    def update(
        self, layer_id: str, *, opacity: float | None = None, visible: bool | None = None
    ) -> None:
        layer = self.get(layer_id)
        if opacity is not None:
            layer.opacity = _opacity(opacity)
        if visible is not None:
            layer.visible = bool(visible)
        self._changed()

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every change (the widget bumps a trait)."""
        self._listeners.append(listener)

    # -- answers ------------------------------------------------------------------------
    def get(self, layer_id: str) -> Layer:
        layer = self._layers.get(layer_id)
        if layer is None:
            raise NotFound(f"no layer {layer_id!r}; the layers are listed by /api/layers")
        return layer

    def layers(self) -> list[Layer]:
        with self._lock:
            return list(self._layers.values())

    def listing(self) -> list[dict[str, Any]]:
        return [layer.as_json() for layer in self.layers()]

    def frame(self, layer_id: str, virtual: int) -> LayerFrame | None:
        """The layer on image ``virtual`` of its stack, None when no slice lies there."""
        layer = self.get(layer_id)
        match = self._match(layer, virtual)
        if match is None:
            return None
        entry, _ = self._frames.get_or_compute(
            (layer_id, virtual), lambda: self._render(layer, match), lambda f: len(f.body) + 256
        )
        return entry

    def contours(self, layer_id: str, virtual: int) -> list[dict[str, Any]]:
        """The polygons of a contours layer on image ``virtual`` ([] when none lie there)."""
        layer = self.get(layer_id)
        placement = layer.source.placement
        if not isinstance(placement, ContourSet):
            raise NotFound(f"layer {layer_id!r} is a {layer.source.kind} layer: it has no contours")
        match = self._match(layer, virtual)
        if not isinstance(match, ContourMatch):
            return []
        return polygons(placement, match, layer.source.labels)

    # -- inside -------------------------------------------------------------------------
    def _match(self, layer: Layer, virtual: int) -> Match | None:
        stack = layer.stack
        if stack is None:
            return None
        if not 0 <= virtual < len(stack.frames):
            raise FrameOutOfRange(
                f"image {virtual} is out of range: stack {stack.id} has {len(stack.frames)}"
            )
        return layer.matches[virtual]

    def _render(self, layer: Layer, match: Match) -> LayerFrame:
        stack = layer.stack
        assert stack is not None
        shape = (stack.rows, stack.columns)
        placement = layer.source.placement
        if isinstance(match, ContourMatch):
            assert isinstance(placement, ContourSet)
            data = filled(placement, match, shape)
        else:
            assert isinstance(match, SliceMatch)
            volume = _sliced(placement, stack)
            fill = np.nan if volume.dtype.kind == "f" else 0
            data = resample(volume, match, shape, fill)
        data = np.ascontiguousarray(data, dtype=data.dtype.newbyteorder("<"))
        return LayerFrame(data.tobytes(), shape[0], shape[1], str(data.dtype.name))

    def _choose(
        self, source: LayerSource
    ) -> tuple[StackInfo | None, list[Match | None], str | None]:
        candidates = self._targets(source)
        wanted = source.references.series_uids
        if wanted:
            candidates = [s for s in candidates if s.series_uid in wanted]
            if not candidates:
                return (
                    None,
                    [],
                    (
                        f"it references series {', '.join(wanted)}, which is not loaded: "
                        "open that series with it"
                    ),
                )
        elif source.references.frame_of_reference:
            candidates = [
                s
                for s in candidates
                if s.frame_of_reference == source.references.frame_of_reference
            ]
            if not candidates:
                return (
                    None,
                    [],
                    (
                        "no loaded image shares its Frame of Reference "
                        f"({source.references.frame_of_reference}): open its images with it"
                    ),
                )
        best: tuple[StackInfo | None, list[Match | None]] = (None, [])
        for stack in candidates:
            matches = self._place(source, stack)
            if sum(m is not None for m in matches) > sum(m is not None for m in best[1]):
                best = (stack, matches)
        if best[0] is None:
            return None, [], _no_match(source)
        return best[0], best[1], None

    def _place(self, source: LayerSource, stack: StackInfo) -> list[Match | None]:
        assert source.placement is not None
        try:
            return place(source.placement, stack)
        except ValueError:
            return [None] * len(stack.frames)

    def _configure(
        self, layer: Layer, *, opacity: float = 0.5, visible: bool = True, colormap: str = ""
    ) -> Layer:
        layer.opacity = _opacity(opacity)
        layer.visible = bool(visible)
        layer.colormap = colormap or ("hot" if layer.source.source == "rtdose" else "viridis")
        return layer

    def _add(self, layer: Layer) -> Layer:
        with self._lock:
            self._layers[layer.id] = layer
        self._changed()
        return layer

    def _next_id(self) -> str:
        with self._lock:
            return f"layer-{next(self._ids)}"

    def _changed(self) -> None:
        with self._lock:
            self.version += 1
        for listener in list(self._listeners):
            listener()


def _sliced(placement: Any, stack: StackInfo) -> np.ndarray:
    """The (slices, rows, columns) array the matches of ``placement`` index."""
    if isinstance(placement, AffineVolume):
        return as_plane_stack(placement, stack).data
    if isinstance(placement, PlaneStack):
        return placement.data
    return np.asarray(placement.data)


def _no_match(source: LayerSource) -> str:
    if source.source == "nifti":
        return (
            "its affine meets no loaded stack: no image lies on one of its slices "
            "(check that the NIfTI was made from these images)"
        )
    return "none of its slices lies on a loaded image (positions or orientation differ)"


def _opacity(value: float) -> float:
    number = float(value)
    if not 0 <= number <= 1:
        raise ValueError(f"opacity must be between 0 and 1, not {value!r}")
    return number
