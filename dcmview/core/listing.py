"""The lists a session publishes once its scan is done, encoded once: files, discovery, series.

The file list never changes once published: encoded in the scan's thread, it costs
``/api/files`` nothing (10,000 files are ~8 MB of JSON, ~150 ms to encode). A masked session
(``--mask``) publishes the masked lists; nothing unmasked is kept encoded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .masked_listing import mask_listing
from .masking import Masker
from .model import DiscoveryEntry, FileRecord
from .packed import Packed


@dataclass(frozen=True)
class Listing:
    # The start of /api/files' JSON, `{"files":[...],"discovery":[...],`, and of /api/series',
    # `{"series":[...],`: each answer appends its own end (see Packed).
    files: Packed
    series: Packed
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
    files = Packed.of(
        [b'{"files":', *_json_parts(summaries), b',"discovery":', *_json_parts(found), b","]
    )
    return Listing(files, Packed.of([b'{"series":', *_json_parts(series), b","]), stack_files)


def empty_listing() -> Listing:
    """What a session publishes before its scan is done."""
    return build_listing([], [], [], [], None)


def _stack_files(series: Sequence[dict[str, Any]]) -> dict[int, tuple[int, ...]]:
    """file index -> the file indices of its stack, from the series list."""
    out: dict[int, tuple[int, ...]] = {}
    for item in series:
        for stack in item["stacks"]:
            files = tuple(sorted({frame["file_index"] for frame in stack["frames"]}))
            for index in files:
                out[index] = files
    return out


def _json_parts(items: Sequence[Any]) -> Iterator[bytes]:
    """A JSON array of ``items`` as the API writes it (compact, no NaN), a thousand at a time:
    the whole text of a large list is never held at once."""
    yield b"["
    for start in range(0, len(items), _BATCH):
        text = _ENCODER.encode(items[start : start + _BATCH])[1:-1]
        yield (text if start == 0 else "," + text).encode()
    yield b"]"


_BATCH = 1000
_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)
