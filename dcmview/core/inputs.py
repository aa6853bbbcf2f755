"""What Python callers pass as paths and filters, normalised for the core."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .filters import Filter, parse_filter

PathsArg = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]
FiltersArg = Mapping[str, str] | Iterable[str] | None


def path_list(paths: PathsArg) -> list[str]:
    """One path or a sequence of them, as strings; ValueError when empty."""
    if isinstance(paths, (str, os.PathLike)):
        return [os.fspath(paths)]
    out = [os.fspath(p) for p in paths]
    if not out:
        raise ValueError("give at least one DICOM file or folder")
    return out


def filter_list(filters: FiltersArg) -> list[Filter]:
    """``{field: value}`` or ``"FIELD=VALUE"`` strings, as ``--filter`` takes them."""
    if filters is None:
        return []
    items: Iterable[Any] = (
        [f"{k}={v}" for k, v in filters.items()] if isinstance(filters, Mapping) else filters
    )
    return [parse_filter(str(text)) for text in items]
