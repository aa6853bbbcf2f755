"""The lists a session publishes once its scan is done, encoded once: files, discovery, series.

The file list never changes once published: encoded in the scan's thread, it costs
``/api/files`` nothing (10,000 files are ~8 MB of JSON, ~150 ms to encode). A masked session
(``--mask``) publishes the masked lists; nothing unmasked is kept encoded.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .masked_listing import mask_listing
from .masking import Masker
from .model import DiscoveryEntry, FileRecord


@dataclass(frozen=True)
class Listing:
    files_json: str
    discovery_json: str
    series_json: str
    # file index -> the file indices of its stack (SPEC §9), for copying redactions.
    stack_files: dict[int, tuple[int, ...]]


def build_listing(
    summaries: list[dict[str, Any]],
    records: Sequence[FileRecord],
    entries: Sequence[DiscoveryEntry],
    series: list[dict[str, Any]],
    masker: Masker | None,
) -> Listing:
    """The encoded lists of ``/api/files`` and ``/api/series`` (masked when ``masker``)."""
    found = [e.as_json() for e in entries]
    stack_files = _stack_files(series)
    if masker is not None:
        summaries, found = mask_listing(masker, records, summaries, found, series)
    return Listing(_json(summaries), _json(found), _json(series), stack_files)


def _stack_files(series: Sequence[dict[str, Any]]) -> dict[int, tuple[int, ...]]:
    """file index -> the file indices of its stack, from the series list."""
    out: dict[int, tuple[int, ...]] = {}
    for item in series:
        for stack in item["stacks"]:
            files = tuple(sorted({frame["file_index"] for frame in stack["frames"]}))
            for index in files:
                out[index] = files
    return out


def _json(value: Any) -> str:
    """JSON as the API writes it (compact, no NaN)."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False)
