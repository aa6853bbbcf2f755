"""``add_layer`` from Python, shared by ``Viewer.add_layer`` and ``ViewHandle.add_layer``.

``data`` is a numpy array (2-D for one image, 3-D ``(frames, rows, columns)`` for a stack; the
shape must be the target's), a nibabel image, or a path (NIfTI, or a DICOM SEG / RTSTRUCT /
RT Dose / Parametric Map). ``on`` is a file index or a stack id. Anything that cannot be
drawn raises ValueError with the reason, and nothing is added.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import NotFound
from .arrays import read_array, recolor
from .model import LayerError, LayerSource
from .nifti import read_nifti
from .placement import StackInfo
from .readers import read_path
from .store import COLORMAPS, Layer, LayerStore

Colors = Mapping[int, Any] | Sequence[Any] | str | None


class LayerRef:
    """A layer added from Python: ``.opacity`` and ``.visible`` change how it is drawn (in
    every open view), ``.remove()`` takes it away."""

    def __init__(self, store: LayerStore, layer: Layer) -> None:
        self._store = store
        self._layer = layer

    @property
    def id(self) -> str:
        return self._layer.id

    @property
    def name(self) -> str:
        return self._layer.source.name

    @property
    def kind(self) -> str:
        return self._layer.source.kind

    @property
    def stack_id(self) -> str | None:
        return self._layer.stack.id if self._layer.stack is not None else None

    @property
    def info(self) -> dict[str, Any]:
        """The layer as ``/api/layers`` lists it."""
        return self._layer.as_json()

    @property
    def opacity(self) -> float:
        return self._layer.opacity

    @opacity.setter
    def opacity(self, value: float) -> None:
        self._store.update(self.id, opacity=value)

    @property
    def visible(self) -> bool:
        return self._layer.visible

    @visible.setter
    def visible(self, value: bool) -> None:
        self._store.update(self.id, visible=value)

    @property
    def removed(self) -> bool:
        return self.id not in {layer.id for layer in self._store.layers()}

    def remove(self) -> None:
        """Take the layer away (again: nothing happens)."""
        if not self.removed:
            self._store.remove(self.id)

    def __repr__(self) -> str:
        where = f"on {self.stack_id}" if self.stack_id else "not placed"
        state = "removed" if self.removed else f"opacity {self.opacity:g}"
        return f"<dcmview layer {self.id} {self.name!r} ({self.kind}, {where}, {state})>"


def add_layer(
    store: LayerStore,
    data: Any,
    *,
    name: str | None = None,
    on: int | str | None = None,
    default_file: int | None = None,
    opacity: float = 0.5,
    colors: Colors = None,
) -> LayerRef:
    """Add ``data`` as a layer of ``store`` (see the module docstring); ``default_file`` is
    the file shown, used when ``on`` is None for an array."""
    if not 0 <= float(opacity) <= 1:
        raise ValueError(f"opacity must be between 0 and 1, not {opacity!r}")
    if isinstance(data, (str, os.PathLike)):
        sources = read_path(data)
        if len(sources) != 1:
            raise LayerError(f"{os.fspath(data)} holds {len(sources)} layers; add them one by one")
        source = sources[0]
    elif hasattr(data, "affine") and hasattr(data, "dataobj"):
        source = read_nifti(data, name or "NIfTI")
    else:
        source = None
    if source is not None:
        if name:
            source.name = name
        _style(source, colors)
        colormap = colors if isinstance(colors, str) else ""
        if on is None:
            layer = store.attach(source, opacity=opacity, colormap=colormap)
        else:
            layer = store.add(source, _target(store, on)[0], opacity=opacity, colormap=colormap)
        if layer.problem is not None:
            store.remove(layer.id)
            raise LayerError(f"{source.name}: {layer.problem}")
        return LayerRef(store, layer)
    stack, file_index, shape, target = _array_target(store, data, on, default_file)
    source = read_array(data, name or "array", shape, target, file_index)
    _style(source, colors)
    colormap = colors if isinstance(colors, str) else ""
    return LayerRef(store, store.add(source, stack, opacity=opacity, colormap=colormap))


def _style(source: LayerSource, colors: Colors) -> None:
    if colors is None:
        return
    if isinstance(colors, str):
        if source.kind != "heatmap" or colors not in COLORMAPS:
            raise LayerError(
                f"colors={colors!r}: a colour map name ({', '.join(COLORMAPS)}) is for float "
                "layers; give label colours as {value: '#rrggbb'} or a list"
            )
        return
    if source.kind == "heatmap":
        raise LayerError(f"a float layer takes a colour map name ({', '.join(COLORMAPS)})")
    source.labels = recolor(source.labels, colors)


def _target(store: LayerStore, on: int | str) -> tuple[StackInfo, int | None]:
    """The stack ``on`` names, and the file when it names a file."""
    if isinstance(on, bool) or not isinstance(on, (int, str)):
        raise LayerError(f"on= takes a file index or a stack id, not {on!r}")
    try:
        if isinstance(on, int):
            return store.stack_of_file(on), on
        return store.stack(on), None
    except NotFound as exc:
        raise LayerError(exc.message) from None


def _array_target(
    store: LayerStore, data: Any, on: int | str | None, default_file: int | None
) -> tuple[StackInfo, int | None, tuple[int, int, int], str]:
    """Where an array goes: (stack, file or None, the shape it must have, its name)."""
    if on is None and default_file is None:
        shape = tuple(getattr(data, "shape", ()))
        fits = [s for s in store.stacks if s.shape == shape or s.shape == (1, *shape)]
        if len(fits) != 1:
            raise LayerError(
                f"{len(fits) or 'no'} loaded stack(s) have the array's shape {shape}: "
                "say which with on= (a file index or a stack id from .series)"
            )
        return fits[0], None, fits[0].shape, fits[0].id
    if on is None and getattr(data, "ndim", 3) == 2:
        on = default_file  # one image: the one shown
    if on is None:
        assert default_file is not None
        stack, file_index = _target(store, default_file)[0], None
    else:
        stack, file_index = _target(store, on)
    if file_index is not None and store.records[file_index].frame_count > 1:
        layout = store.records[file_index].layout
        assert layout is not None
        return stack, file_index, (layout.frame_count, layout.rows, layout.columns), f"file {on}"
    if file_index is not None and getattr(data, "ndim", 3) == 2:
        return stack, file_index, (1, stack.rows, stack.columns), f"file {on}"
    return stack, None, stack.shape, stack.id
