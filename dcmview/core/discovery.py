"""Find DICOM files under the given paths, read their headers, filter and order their records.

Only headers are read (``stop_before_pixels``); no pixel data is touched at start-up.
"""

from __future__ import annotations

import operator
import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from typing import TYPE_CHECKING, Any, BinaryIO

from .fileio import NotRegularFile, open_regular
from .filters import Filter
from .geometry import Geometry, position_of
from .layers.detect import SOP_CLASSES
from .model import FIELD_NAMES, DiscoveryEntry, FileRecord
from .plain_header import (
    KEYWORDS,
    NO_PREFIX,
    HandOver,
    HeaderValues,
    PlainHeader,
    PlainReader,
    PlainValues,
)
from .records import _inspect_values, _int, _reason, identifiers_of, text_value
from .walking import iter_candidate_paths

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

    from .header_reader import Header

_KEYWORD_TAGS = frozenset(tag for tag, _ in KEYWORDS.values())


Read = tuple[FileRecord | None, "HeaderValues | None", str | None]


def read_record(
    path: str,
    reader: PlainReader | None = None,
    identifiers: bool = False,
    share: Callable[[FileRecord], FileRecord] | None = None,
) -> Read:
    """Read one file's header: ``(record, its values, None)`` or ``(None, None, reason)``.

    ``reader`` reads the header without pydicom when it can (:mod:`.plain_header`; a scan
    passes one reader for its files); pydicom's reader takes the files it hands over.
    With ``identifiers`` (``--mask``), the record keeps the file's identifiers to scrub text
    with (reading them costs ~20 % of a scan, so only then). ``share`` gives a record one copy
    of the values other records hold too (``_Shared.record``), before the next files of its
    series are made from it.
    """
    try:
        return _read_plain(path, reader or PlainReader(), identifiers, share)
    except HandOver:
        record, values, problem = _read_with_pydicom(path, identifiers)
        if record is not None and share is not None:
            record = share(record)
        return record, values, problem


def _read_plain(
    path: str,
    reader: PlainReader,
    identifiers: bool,
    share: Callable[[FileRecord], FileRecord] | None,
) -> Read:
    try:
        header = reader.read(path)
    except OSError as exc:
        return None, None, _open_problem(exc)
    if isinstance(header, str):
        return None, None, header
    values = reader.values(header)
    template = header.kept
    if isinstance(template, _Template):
        record = template.derive(path, header, values, identifiers)
        if record is not None:
            return record, values, None
    try:
        values.check(SOP_CLASSES.__contains__)
        record, values_, problem = _inspect_values(
            path, values, header.walk.stop, header.pixel_head, header.size
        )
    except Exception as exc:
        return None, None, f"invalid header: {_reason(exc)}"
    if record is None:
        return record, values_, problem
    info = header.info
    found = identifiers_of(values) if identifiers else ()
    record = replace(record, size=info.st_size, mtime_ns=info.st_mtime_ns, identifiers=found)
    if share is not None:
        record = share(record)
    template = _Template.of(record, header, identifiers)
    reader.keep(header, template, template.ranges(header) if template else ())
    return record, values_, problem


# The values of a series that differ from file to file.
_OWN = (
    KEYWORDS["SOPInstanceUID"][0],
    KEYWORDS["InstanceNumber"][0],
)
_POSITION = KEYWORDS["ImagePositionPatient"][0]
_SOP_FIELD = FIELD_NAMES.index("sop_instance_uid")
_NUMBER_FIELD = FIELD_NAMES.index("instance_number")
_LABEL_FIELDS = [FIELD_NAMES.index(f) for f in ("patient_id", "modality", "study_date")]


class _Template:
    """The record of a file, for the next files of its series.

    The record is made of the values of :data:`.plain_header.KEYWORDS` and of facts of the
    walk (syntax, presence of elements, Pixel Data's position and first bytes) and the file's
    size. A file with the same walk and size, whose values are the same but its own (SOP
    Instance UID, Instance Number and, where the geometry does not rest on it, Image Position)
    gets this record with those changed: ~10 µs instead of the ~60 µs of making it. The
    reader compares those values along with the walk, and gives the template back with the
    header (``PlainReader.keep``).
    """

    __slots__ = ("_identifiers", "_position", "_record", "_size")

    def __init__(self, record: FileRecord, header: PlainHeader, identifiers: bool) -> None:
        geometry = record.geometry
        # The position is a file's own where the geometry rests on it, not a shared value.
        self._position = geometry is not None and (
            bool(geometry.frame_of_reference_uid) or geometry.orientation is not None
        )
        self._size, self._identifiers = header.size, identifiers
        self._record = record

    @classmethod
    def of(cls, record: FileRecord, header: PlainHeader, identifiers: bool) -> _Template | None:
        """A template of ``record``, when its label does not come from its path."""
        if record.geometry is not None and record.geometry.frames is not None:
            return None
        if not any(record.values[i] for i in _LABEL_FIELDS):
            return None
        return cls(record, header, identifiers)

    def ranges(self, header: PlainHeader) -> list[tuple[int, int]]:
        """Where the values that make this template are in ``header`` (its record's)."""
        own = {*_OWN, _POSITION} if self._position else set(_OWN)
        return [
            (at, at + length)
            for tag, (_, at, length) in header.walk.elements.items()
            if tag in _KEYWORD_TAGS and tag not in own
        ]

    def derive(
        self, path: str, header: PlainHeader, values: PlainValues, identifiers: bool
    ) -> FileRecord | None:
        """The record of ``path`` made from this one (whose header's walk and values it has:
        the reader gave this template with it), or None when it must be made whole."""
        if header.size != self._size or identifiers != self._identifiers:
            return None
        record = self._record
        try:
            fields = list(record.values)
            fields[_SOP_FIELD] = text_value(values.get_own("SOPInstanceUID"))
            fields[_NUMBER_FIELD] = _int(values.get_own("InstanceNumber"), None)
            geometry = record.geometry
            if self._position and geometry is not None:
                position = position_of(values.get_own("ImagePositionPatient"))
                geometry = Geometry(geometry.frame_of_reference_uid, geometry.orientation, position)
        except (HandOver, Exception):
            return None
        own = list(_RECORD_FIELDS(record))
        own[_PATH], own[_VALUES], own[_GEOMETRY] = path, tuple(fields), geometry
        own[_MTIME] = header.info.st_mtime_ns
        return FileRecord(*own)


# FileRecord's fields, read at once (``dataclasses.replace`` took ~7 µs a record).
_NAMES = [f.name for f in dataclass_fields(FileRecord)]
_RECORD_FIELDS = operator.attrgetter(*_NAMES)
_PATH, _VALUES, _GEOMETRY, _MTIME = (
    _NAMES.index(n) for n in ("path", "values", "geometry", "mtime_ns")
)


def _open_problem(exc: OSError) -> str:
    """Why a file that could not be opened or read is skipped."""
    if isinstance(exc, NotRegularFile):
        return str(exc)
    if isinstance(exc, PermissionError):
        return "permission denied"
    if exc.errno is None:  # pydicom reports a broken structure as a bare OSError
        return f"unreadable DICOM header: {_reason(exc)}"
    return f"cannot read: {type(exc).__name__}"


def _read_with_pydicom(path: str, identifiers: bool = False) -> Read:
    from pydicom.errors import InvalidDicomError

    try:
        fp, info = open_regular(path)
        with fp, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            header = read_header_or_fallback(fp)
    except InvalidDicomError:
        return None, None, NO_PREFIX
    except OSError as exc:
        return None, None, _open_problem(exc)
    except MemoryError as exc:
        return None, None, f"cannot read: {type(exc).__name__}"
    except Exception as exc:
        return None, None, f"unreadable DICOM header: {_reason(exc)}"
    try:
        # pydicom converts values when they are first read: a damaged one raises only now.
        record, values, problem = _inspect(path, header)
    except Exception as exc:
        return None, None, f"invalid header: {_reason(exc)}"
    if record is None or values is None:
        return record, values, problem
    found = identifiers_of(values) if identifiers else ()
    return (
        replace(record, size=info.st_size, mtime_ns=info.st_mtime_ns, identifiers=found),
        values,
        problem,
    )


def read_header_or_fallback(fp: BinaryIO) -> Header:
    """The header of the open file ``fp`` by the scanning reader, or by pydicom's ``dcmread``
    (``stop_before_pixels``) when that reader hands the file over. Raises as ``dcmread`` does."""
    import pydicom

    from .header_reader import Header, read_header

    header = read_header(fp)
    if header is not None:
        return header
    fp.seek(0)
    ds = pydicom.dcmread(fp, stop_before_pixels=True)
    offset = fp.tell()
    return Header(ds, offset, fp.read(12), os.fstat(fp.fileno()).st_size)


def _inspect(
    path: str, header: Header
) -> tuple[FileRecord | None, HeaderValues | None, str | None]:
    """The record of a header that pydicom's reader parsed (see :func:`read_record`)."""
    from .header_values import DatasetValues

    values = DatasetValues(header.dataset)
    return _inspect_values(path, values, header.pixel_offset, header.pixel_head, header.file_size)


# Folders at least this large are read by the worker processes too, in chunks, on a machine
# with a core for each process (this one and two workers). Starting them costs ~0.5 s, and each
# record they read costs this process ~35 µs to take (unpickled, then its values shared)
# against ~60 µs to read it here: on 2 cores 100,000 files took 10.2 s with them against
# 8.7 s without, and 10,000 files 2.3 s against 1.5 s.
PARALLEL_MIN_FILES = 50000
PARALLEL_MIN_CPUS = 4
_CHUNK = 250

Outcome = tuple[FileRecord | None, DiscoveryEntry | None]


def scan(
    paths: Sequence[str],
    *,
    recursive: bool = True,
    filters: Iterable[Filter] = (),
    progress: Callable[..., None] | None = None,
    anon: bool = False,
    identifiers: bool = False,
) -> tuple[list[FileRecord], list[DiscoveryEntry], int]:
    """Discover, read, filter and order files: ``(records, not loaded, files scanned)``.

    ``progress(scanned, loaded)`` is called as files are read. Duplicate inputs (the same
    file named twice, or reached through two arguments) are read once. Large folders are read
    by this process and the worker processes together; the outcome is the same.
    URL inputs (:mod:`.sources`) are listed and read first, public buckets without
    credentials when ``anon``; ``progress`` then also gets ``listed=N`` while they are listed.
    """
    filters = list(filters)
    from .sources import is_url

    urls = [p for p in paths if is_url(p)]
    if urls:  # object storage, web and DICOMweb servers: read apart, then merged
        from .sources import after, scan_urls

        paths = [p for p in paths if not is_url(p)]
        remote, remote_scanned = scan_urls(
            urls, recursive=recursive, anon=anon, filters=filters, progress=progress
        )
        if progress is not None:
            progress = after(progress, remote_scanned, remote)
    candidates: list[tuple[str, str | None]] = []
    seen: set[str] = set()
    for path, problem, real in iter_candidate_paths(paths, recursive):
        if real not in seen:
            seen.add(real)
            candidates.append((path, problem))
    del seen
    chunks = [candidates[i : i + _CHUNK] for i in range(0, len(candidates), _CHUNK)]
    outcomes: list[list[Outcome] | None] = [None] * len(chunks)
    counts = [0, 0]  # files read, records loaded

    shared = _Shared()

    def done(index: int, chunk_outcomes: list[Outcome], shared_already: bool = False) -> None:
        if not shared_already:  # read by a worker process: its values are copies
            chunk_outcomes = [(shared.record(r), e) if r else (r, e) for r, e in chunk_outcomes]
        outcomes[index] = chunk_outcomes
        counts[0] += len(chunk_outcomes)
        counts[1] += sum(1 for record, _ in chunk_outcomes if record is not None)
        if progress is not None:
            progress(counts[0], counts[1])

    if len(candidates) >= PARALLEL_MIN_FILES and _cpus() >= PARALLEL_MIN_CPUS:
        from .jobs import POOL
        from .pool import in_parallel

        work = [(chunk, filters, identifiers) for chunk in chunks]
        in_parallel(POOL, "headers", work, read_chunk, done)
    else:
        for index, chunk in enumerate(chunks):
            done(index, read_chunk(chunk, filters, identifiers, shared.record), True)
    records: list[FileRecord] = []
    entries: list[DiscoveryEntry] = []
    if urls:
        outcomes.insert(0, remote)
        scanned_urls = remote_scanned
    else:
        scanned_urls = 0
    for chunk_outcomes in outcomes:
        assert chunk_outcomes is not None
        for record, entry in chunk_outcomes:
            if record is not None:
                records.append(record)
            if entry is not None:
                entries.append(entry)
    records.sort(key=lambda r: r.sort_key)
    return records, entries, len(candidates) + scanned_urls


def _cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


# FileSummary fields that differ from file to file (the others repeat across a series).
_OWN_FIELDS = frozenset({"sop_instance_uid", "instance_number"})


class _Shared:
    """One copy of each value that files share: a series' UIDs, names, dates and pixel layout
    arrive once per file from the header reader (and from the workers, unpickled apart).
    Sharing them took a 100,000-file session's records from ~2.9 to ~1.2 KB a file."""

    def __init__(self) -> None:
        self._seen: dict[Any, Any] = {}

    def one(self, value: Any) -> Any:
        return self._seen.setdefault(value, value)

    def record(self, record: FileRecord) -> FileRecord:
        """``record`` with shared values; itself when they are shared already (the files a
        scan made from one series template share their objects from the start)."""
        one = self.one
        changes: dict[str, Any] = {}
        values = tuple(
            value if own else one(value)
            for own, value in zip(_OWN_FIELD_FLAGS, record.values, strict=True)
        )
        if any(a is not b for a, b in zip(values, record.values, strict=True)):
            changes["values"] = values
        for name in _SHARED_FIELDS:
            value = getattr(record, name)
            if one(value) is not value:
                changes[name] = one(value)
        geometry = record.geometry
        if geometry is not None:
            uid, orientation = geometry.frame_of_reference_uid, geometry.orientation
            if one(uid) is not uid or one(orientation) is not orientation:
                changes["geometry"] = replace(
                    geometry, frame_of_reference_uid=one(uid), orientation=one(orientation)
                )
        return replace(record, **changes) if changes else record


_OWN_FIELD_FLAGS = tuple(name in _OWN_FIELDS for name in FIELD_NAMES)
_SHARED_FIELDS = ("label", "transfer_syntax_uid", "layout", "pixel_data_vr", "identifiers")


def read_chunk(
    candidates: Sequence[tuple[str, str | None]],
    filters: Sequence[Filter],
    identifiers: bool = False,
    share: Callable[[FileRecord], FileRecord] | None = None,
) -> list[Outcome]:
    """Read, filter and describe each ``(path, problem)``: a record or why there is none
    (``identifiers``, ``share``: see :func:`read_record`)."""
    outcomes: list[Outcome] = []
    # Filters compare pydicom's values (a person name as pydicom writes it): read by pydicom.
    reader = None if filters else PlainReader()
    for path, problem in candidates:
        record = None
        if problem is None:
            if reader is None:
                record, values, problem = _read_with_pydicom(path, identifiers)
                if record is not None and share is not None:
                    record = share(record)
            else:
                record, values, problem = read_record(path, reader, identifiers, share)
            if record is not None and values is not None and filters:
                unmet = unmet_filter(values.dataset(), filters)
                if unmet is not None:
                    outcomes.append((None, DiscoveryEntry(path, "filtered", unmet)))
                    continue
        entry = DiscoveryEntry(path, "skipped", problem) if problem is not None else None
        outcomes.append((record, entry))
    return outcomes


def unmet_filter(ds: Dataset, filters: Sequence[Filter]) -> str | None:
    """Why the header ``ds`` is filtered out (the first filter it does not meet), or None."""
    unmet = next((f for f in filters if not f.matches(ds)), None)
    return None if unmet is None else f"{unmet.field} does not contain {unmet.value!r}"
