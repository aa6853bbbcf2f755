"""The layers a session starts with: layer objects among its files and ``--overlay`` paths."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any

from ..fileio import open_record
from ..model import FileRecord
from .model import LayerError, LayerSource, References
from .placement import stacks_of
from .readers import read_dicom, read_path
from .store import LayerStore


def load_layers(
    records: Sequence[FileRecord],
    series: Sequence[dict[str, Any]],
    overlay_paths: Sequence[str] = (),
) -> LayerStore:
    """A store holding every layer found: none of them can fail the session (a layer that
    cannot be read or placed is listed with its problem)."""
    store = LayerStore(records, stacks_of(series, records))
    for index, record in enumerate(records):
        kind = record.layer_source
        if kind is None:
            continue
        name = os.path.basename(record.path)
        try:
            ds = _dataset(record, pixels=kind != "overlay")
            sources = read_dicom(ds, kind, name, own_file=index)
        except Exception as exc:  # the libraries raise many kinds: all are this file's problem
            sources = [_broken(name, kind, exc, index)]
        _attach(store, sources, kind, index)
    for path in overlay_paths:
        name = os.path.basename(path)
        try:
            sources = read_path(path)
        except Exception as exc:
            sources = [_broken(name, "overlay", exc, None)]
        _attach(store, sources, "overlay", None)
    return store


def _attach(
    store: LayerStore, sources: Sequence[LayerSource], kind: str, own_file: int | None
) -> None:
    for source in sources:
        try:
            store.attach(source)
        except Exception as exc:  # placement of odd geometry: listed, never the session's end
            store.attach(_broken(source.name, kind, exc, own_file))


def _dataset(record: FileRecord, *, pixels: bool) -> Any:
    import pydicom

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with open_record(record) as fp:
            return pydicom.dcmread(fp, stop_before_pixels=not pixels)


def _broken(name: str, kind: str, exc: Exception, own_file: int | None) -> LayerSource:
    text = (
        str(exc) if isinstance(exc, LayerError) else f"cannot be read: {type(exc).__name__}: {exc}"
    )
    return LayerSource(
        name=name,
        kind="labels",
        source=kind,
        placement=None,
        references=References(own_file=own_file),
        problem=text[:500],
    )


def report_lines(layers: Sequence[dict[str, Any]]) -> list[str]:
    """One startup line per layer: where it is drawn, or why it is not."""
    out = []
    for layer in layers:
        if layer["problem"]:
            out.append(f"layer not drawn: {layer['name']}: {layer['problem']}")
        else:
            out.append(
                f"layer {layer['name']} ({layer['source']}) on {layer['stack_id']}, "
                f"{layer['matched_frames']} image(s)"
            )
    return out
