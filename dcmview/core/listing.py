"""The lists a session publishes once its scan is done, encoded once: files, discovery, series.

The file list never changes once published: encoded in the scan's thread, it costs
``/api/files`` nothing (10,000 files are ~8 MB of JSON, ~150 ms to encode). A masked session
(``--mask``) publishes the masked lists; nothing unmasked is kept encoded.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .masked_listing import mask_listing
from .masking import Masker
from .model import FIELD_NAMES, DiscoveryEntry, FileRecord
from .packed import Packed
from .transfer_syntaxes import is_supported

encode_basestring_ascii: Any = json.encoder.encode_basestring_ascii


@dataclass(frozen=True)
class Listing:
    # The start of /api/files' JSON, `{"files":[...],"discovery":[...],`, and of /api/series',
    # `{"series":[...],`: each answer appends its own end (see Packed).
    files: Packed
    series: Packed
    # file index -> the file indices of its stack (SPEC §9), for copying redactions.
    stack_files: dict[int, tuple[int, ...]]


def build_listing(
    records: Sequence[FileRecord],
    entries: Sequence[DiscoveryEntry],
    series: list[dict[str, Any]],
    masker: Masker | None,
) -> Listing:
    """The encoded lists of ``/api/files`` and ``/api/series`` (masked when ``masker``)."""
    found = [e.as_json() for e in entries]
    stack_files = _stack_files(series)
    if masker is not None:
        summaries = [file_summary(i, r) for i, r in enumerate(records)]
        summaries, found = mask_listing(masker, records, summaries, found, series)
        files_json = _json_parts(summaries)
    else:
        files_json = _summaries_json(records)
    files = Packed.of([b'{"files":', *files_json, b',"discovery":', *_json_parts(found), b","])
    return Listing(files, Packed.of([b'{"series":', *_json_parts(series), b","]), stack_files)


def empty_listing() -> Listing:
    """What a session publishes before its scan is done."""
    return build_listing([], [], [], None)


def file_summary(index: int, record: FileRecord) -> dict[str, Any]:
    """The API's FileSummary of ``record``, the file at ``index``."""
    layout = record.layout
    return {
        "index": index,
        "path": record.path,
        "label": record.label,
        **record.fields,
        "has_pixels": record.has_pixels,
        "frame_count": record.frame_count,
        "rows": layout.rows if layout else None,
        "columns": layout.columns if layout else None,
        "transfer_syntax_uid": record.transfer_syntax_uid,
        "default_window": layout.default_window.as_json()
        if layout and layout.default_window
        else None,
        # The display shutter's shapes (lower case; [] without one): the viewer lays the
        # shutter (GET /api/file/:i/shutter) over the image and names them in the overlay.
        "shutter_shapes": record.shutter.labels if record.shutter else [],
        # The explorer's "unsupported" badge: pixels no decoder here can show.
        "pixels_supported": layout is not None
        and record.pixel_problem is None
        and (record.syntax_from_frames or is_supported(record.transfer_syntax_uid)),
    }


# A file's own summary fields, in the summary's order; the others repeat across its series.
_OWN = ("index", "path", "sop_instance_uid", "instance_number")
_SOP = FIELD_NAMES.index("sop_instance_uid")
_NUMBER = FIELD_NAMES.index("instance_number")
_SHARED_VALUES = operator.itemgetter(*(i for i, name in enumerate(FIELD_NAMES) if name not in _OWN))
# Stands for an own field in a summary encoded as a template; the encoder writes the NUL as
# ``\u0000``, which no encoded value holds unescaped, and a template is checked anyway.
_MARK = "\0dcmview-own-"
_MARKED = re.compile(r'"\\u0000dcmview-own-[0-9]"')


def _summaries_json(records: Sequence[FileRecord]) -> Iterator[bytes]:
    """The JSON array of the records' summaries, as :func:`_json_parts` encodes them.

    The files of a series share all but four summary fields (index, path, SOP Instance UID,
    Instance Number): their summary is encoded once, with marks for those, and each file's is
    that text with its own four values in place (~2 µs a file, against ~15 µs to build and
    encode its dict: 10,000 files' list took ~240 ms). Files read from a remote source are
    encoded whole.
    """
    templates: dict[tuple[Any, ...], list[str] | None] = {}
    text = encode_basestring_ascii
    yield b"["
    batch: list[str] = []
    for index, record in enumerate(records):
        pieces = None
        key = _template_key(record)
        if key is not None:
            try:
                pieces = templates[key]
            except KeyError:
                pieces = templates[key] = _template(record)
            except TypeError:  # a multi-valued field: encoded whole
                pass
        if pieces is None:
            batch.append(_ENCODER.encode(file_summary(index, record)))
        else:
            values = record.values
            sop, number = values[_SOP], values[_NUMBER]
            batch.append(
                "".join(
                    (
                        pieces[0],
                        str(index),
                        pieces[1],
                        text(record.path),
                        pieces[2],
                        text(sop) if type(sop) is str else _ENCODER.encode(sop),
                        pieces[3],
                        str(number) if type(number) is int else _ENCODER.encode(number),
                        pieces[4],
                    )
                )
            )
        if len(batch) == _BATCH:
            yield ("," if index >= _BATCH else "").encode() + ",".join(batch).encode()
            batch = []
    if batch:
        yield ("," if len(records) > len(batch) else "").encode() + ",".join(batch).encode()
    yield b"]"


def _template_key(record: FileRecord) -> tuple[Any, ...] | None:
    """What a record's summary is made of beside its own fields (None: encode it whole).
    Layouts and shutters count by identity (a scan shares them across a series)."""
    if record.remote is not None:
        return None
    return (
        record.label,
        record.transfer_syntax_uid,
        record.pixel_problem,
        id(record.layout),
        id(record.shutter),
        _SHARED_VALUES(record.values),
    )


def _template(record: FileRecord) -> list[str] | None:
    """A record's summary encoded with marks for its own fields, split at them (None: a value
    of the record holds a mark, so it is encoded whole)."""
    summary = file_summary(0, record)
    for number, name in enumerate(_OWN):
        summary[name] = f"{_MARK}{number}"
    pieces = _MARKED.split(_ENCODER.encode(summary))
    if len(pieces) != len(_OWN) + 1:
        return None
    return pieces


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
