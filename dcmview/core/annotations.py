"""The in-memory stores of boxes (ROIs, redactions) with EMBED CSV import and export.

A store is state users create. Every change is validated whole against the image it belongs to
(:mod:`dcmview.core.boxes`) before it replaces the old value, so a rejected request changes
nothing. The input CSV is read once and never written; edits leave the process only through an
export or a recovery file (:mod:`dcmview.core.recovery`).

An export counts (the store becomes clean) only once it was delivered: the caller takes a
:meth:`AnnotationStore.snapshot` and calls :meth:`AnnotationStore.mark_exported` when the whole
CSV reached the user, so a HEAD, an aborted download or a failed write keeps the edits dirty.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from dcmview.core.boxes import (
    MAX_ROIS_PER_FILE,
    NO_PIXELS,
    ImageShape,
    LoadedFile,
    Roi,
    etag_of,
    if_match_ok,
    parse_payload,
    rois_of,
    to_payload,
)
from dcmview.core.embed_csv import CsvDocument, CsvError, CsvRow, csv_bytes, read_csv, write_csv
from dcmview.core.errors import InvalidAnnotation, NotFound, PayloadTooLarge, PreconditionFailed
from dcmview.core.recovery import candidate_directories, file_name, recovery_directory, save
from dcmview.core.sources import is_url

__all__ = [
    "ANNOTATIONS",
    "MAX_ROIS_PER_FILE",
    "REDACTIONS",
    "AnnotationStore",
    "BoxKind",
    "CsvDocument",
    "CsvError",
    "ImageShape",
    "LoadedFile",
    "Roi",
    "etag_of",
    "parse_payload",
    "read_csv",
    "recovery_directory",
    "to_payload",
]

# Text cleaning for a CSV export: given the file index of a row (None: a CSV row naming no
# loaded file), the function that cleans its text cells (``--mask``).
Cleaner = Callable[[int | None], Callable[[str], str]]


@dataclass(frozen=True)
class BoxKind:
    """What a store holds: its name in messages and files, and whether every box covers all
    frames (redactions hide a region of the whole file)."""

    name: str
    all_frames_only: bool
    # The stem of its recovery files: ``<stem>-<time>-<pid>.csv``.
    recovery_stem: str


ANNOTATIONS = BoxKind("ROI", all_frames_only=False, recovery_stem="dcmview-annotations")
REDACTIONS = BoxKind("redaction", all_frames_only=True, recovery_stem="dcmview-redactions")


class AnnotationStore:
    """The ROIs of one session, keyed by file index; thread-safe.

    Built from the loaded files and, optionally, a parsed CSV: rows are matched to files by path,
    every matched row is validated against its image, and a single invalid row raises
    :class:`CsvError` (line and rule) so nothing is loaded partially. Unmatched rows are kept
    unchanged for export. Each ROI remembers the row it came from, so an export writes it back
    to that row with the row's other columns.
    """

    def __init__(
        self,
        files: Sequence[LoadedFile],
        document: CsvDocument | None = None,
        *,
        cwd: str | None = None,
        kind: BoxKind = ANNOTATIONS,
    ) -> None:
        self.kind = kind
        # Set by a masked session: the HTTP export then carries no identifiers.
        self.cleaner: Cleaner | None = None
        self._lock = threading.Lock()
        self._files: dict[int, LoadedFile] = {}
        for file in files:
            if file.index in self._files:
                raise ValueError(f"file index {file.index} is given twice")
            self._files[file.index] = file
        self._columns: tuple[str, ...] = document.columns if document else ()
        self._rows: tuple[CsvRow, ...] = document.rows if document else ()
        self._row_file: list[int | None] = []
        self._first_row: dict[int, int] = {}
        self._rois: dict[int, tuple[Roi, ...]] = {}
        self._origins: dict[int, tuple[int | None, ...]] = {}
        # Every change bumps the version; the store is dirty until that version is exported.
        self._version = 0
        self._exported = 0
        self._listeners: list[Callable[[], None]] = []
        if document is not None:
            self._load(document, os.getcwd() if cwd is None else cwd)

    def get(self, index: int) -> tuple[dict[str, object], str]:
        """The canonical payload of one file (``num_roi`` 0 when it has none) and its ETag."""
        payload = to_payload(self.rois(index))
        return payload, etag_of(payload)

    def put(
        self, index: int, body: object, if_match: str | None = None
    ) -> tuple[dict[str, object], str]:
        """Replace one file's ROIs with a validated body; returns the new payload and ETag.

        The whole body is validated before anything changes. ``if_match`` (the If-Match header)
        must name the current ETag unless it is None or ``*``; otherwise
        :class:`PreconditionFailed` is raised.
        """
        file = self._file(index)
        new = self._parse(body, file)
        with self._lock:
            old = self._rois.get(index, ())
            if not if_match_ok(if_match, etag_of(to_payload(old))):
                raise PreconditionFailed(
                    "these ROIs were changed elsewhere since you loaded them; reload and retry"
                )
            origins = _inherit_origins(
                old, self._origins.get(index, ()), new, self._first_row.get(index)
            )
            self._rois[index] = new
            self._origins[index] = origins
            changed = new != old
            if changed:
                self._version += 1
        if changed:
            self._notify()
        payload = to_payload(new)
        return payload, etag_of(payload)

    def put_many(self, bodies: Mapping[int, object]) -> None:
        """Replace the ROIs of several files at once: every body is validated before any is
        applied, so an invalid one raises (naming its file) and changes nothing."""
        parsed: dict[int, tuple[Roi, ...]] = {}
        for index, body in bodies.items():
            file = self._file(index)
            try:
                parsed[index] = self._parse(body, file)
            except (InvalidAnnotation, PayloadTooLarge) as exc:
                raise type(exc)(f"file {index}: {exc.message}") from None
        changed = False
        with self._lock:
            for index, new in parsed.items():
                old = self._rois.get(index, ())
                self._origins[index] = _inherit_origins(
                    old, self._origins.get(index, ()), new, self._first_row.get(index)
                )
                self._rois[index] = new
                changed = changed or new != old
            if changed:
                self._version += 1
        if changed:
            self._notify()

    def _parse(self, body: object, file: LoadedFile) -> tuple[Roi, ...]:
        return parse_payload(
            body, file.shape or NO_PIXELS, all_frames_only=self.kind.all_frames_only
        )

    def rois(self, index: int) -> tuple[Roi, ...]:
        """The current ROIs of one file."""
        self._file(index)
        with self._lock:
            return self._rois.get(index, ())

    def all_payloads(self) -> dict[int, dict[str, object]]:
        """index -> canonical payload, for the files that have at least one ROI."""
        with self._lock:
            return {i: to_payload(r) for i, r in sorted(self._rois.items()) if r}

    @property
    def dirty(self) -> bool:
        """True when edits were made since the store was loaded or last exported."""
        with self._lock:
            return self._version != self._exported

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` (in the caller's thread) after every edit and every export."""
        with self._lock:
            self._listeners.append(listener)

    @property
    def unmatched_rows(self) -> int:
        """How many CSV rows name no loaded file (kept for export, never validated)."""
        return sum(1 for index in self._row_file if index is None)

    def snapshot(self, *, clean: bool = True) -> tuple[str, int]:
        """The CSV text of every row and ROI (see :func:`write_csv`) and the version it shows.

        ``clean``: the text cells pass through :attr:`cleaner` when one is set (a masked
        session's download). Nothing is marked exported: pass the version to
        :meth:`mark_exported` once the text was delivered.
        """
        with self._lock:
            return self._export_text(self.cleaner if clean else None), self._version

    def mark_exported(self, version: int) -> None:
        """Record that the snapshot of ``version`` reached the user; later edits stay dirty."""
        with self._lock:
            if version <= self._exported or version > self._version:
                return
            self._exported = version
        self._notify()

    def export_csv(self) -> str:
        """The CSV text of every row and ROI, marked exported (the caller delivers it)."""
        text, version = self.snapshot()
        self.mark_exported(version)
        return text

    def write_export(self, path: str | os.PathLike[str]) -> pathlib.Path:
        """Write the export CSV to ``path``; the edits count as exported once it is written.

        The file holds the real paths even in a masked session: a script asked for it, and
        it must load again.
        """
        target = pathlib.Path(path).expanduser()
        text, version = self.snapshot(clean=False)
        with open(target, "wb") as stream:
            stream.write(csv_bytes(text))
        self.mark_exported(version)
        return target

    def recovery_bytes(self) -> bytes | None:
        """The CSV of a recovery file, or None when every edit was exported (or none was made)."""
        with self._lock:
            if self._version == self._exported:
                return None
            return csv_bytes(self._export_text())

    def write_recovery(
        self, directory: str | os.PathLike[str] | None = None
    ) -> pathlib.Path | None:
        """Save unexported edits to a new timestamped CSV (mode 0600) and return its path.

        Writes atomically into ``directory``, or else into the first of
        :func:`~dcmview.core.recovery.candidate_directories` that works; never next to the
        inputs. Returns None, writing nothing, when there are no unexported edits; raises
        OSError when no folder could be written. The store stays dirty: a recovery file is not
        an export the user asked for.
        """
        data = self.recovery_bytes()
        if data is None:
            return None
        folders = [pathlib.Path(directory)] if directory is not None else candidate_directories()
        target, failures = save(data, file_name(self.kind.recovery_stem), folders)
        if target is None:
            raise OSError(f"no folder could take the recovery file ({'; '.join(failures)})")
        return target

    def _notify(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener()

    def _file(self, index: int) -> LoadedFile:
        file = self._files.get(index)
        if file is None:
            raise NotFound(f"there is no file with index {index}; GET /api/files lists them")
        return file

    def _load(self, document: CsvDocument, cwd: str) -> None:
        finder = _PathIndex(self._files.values())
        rois: dict[int, list[Roi]] = {}
        origins: dict[int, list[int]] = {}
        for row_id, row in enumerate(document.rows):
            index = finder.find(row.path, document.directory, cwd)
            self._row_file.append(index)
            if index is None:
                continue
            self._first_row.setdefault(index, row_id)
            shape = self._files[index].shape or NO_PIXELS
            try:
                found = rois_of(row.coords, row.frames or (), shape)
            except InvalidAnnotation as exc:
                raise CsvError(exc.message, row.line, document.name) from None
            rois.setdefault(index, []).extend(found)
            origins.setdefault(index, []).extend([row_id] * len(found))
        self._rois = {i: tuple(r) for i, r in rois.items()}
        self._origins = {i: tuple(o) for i, o in origins.items()}

    def _export_text(self, cleaner: Cleaner | None = None) -> str:
        by_row: dict[int, list[Roi]] = {}
        unrowed: dict[int, list[Roi]] = {}
        for index in sorted(self._rois):
            for roi, origin in zip(self._rois[index], self._origins[index], strict=True):
                if origin is None:
                    unrowed.setdefault(index, []).append(roi)
                else:
                    by_row.setdefault(origin, []).append(roi)
        rows = [
            row if self._row_file[row_id] is None else _with_rois(row, by_row.get(row_id, []))
            for row_id, row in enumerate(self._rows)
        ]
        owners: list[int | None] = list(self._row_file)
        blank = ("",) * len(self._columns)
        for index, rois in unrowed.items():
            new_row = CsvRow(
                line=0, path=self._files[index].path, coords=(), frames=None, extra=blank
            )
            rows.append(_with_rois(new_row, rois))
            owners.append(index)
        if cleaner is not None:
            rows = [_cleaned(row, cleaner(owner)) for row, owner in zip(rows, owners, strict=True)]
        return write_csv(self._columns, rows)


def _cleaned(row: CsvRow, clean: Callable[[str], str]) -> CsvRow:
    return dataclasses.replace(row, path=clean(row.path), extra=tuple(map(clean, row.extra)))


def _with_rois(row: CsvRow, rois: Sequence[Roi]) -> CsvRow:
    frames = None if all(not roi.frames for roi in rois) else tuple(roi.frames for roi in rois)
    return dataclasses.replace(row, coords=tuple(roi.box for roi in rois), frames=frames)


def _inherit_origins(
    old: Sequence[Roi], old_origins: Sequence[int | None], new: Sequence[Roi], default: int | None
) -> tuple[int | None, ...]:
    """Which CSV row each new ROI belongs to.

    A PUT carries no ROI identities, so: an unchanged ROI keeps its row (same position first, so
    duplicates stay put); changed ROIs take the rows of vanished ones in order (a move or resize
    stays in its row); any others are additions and go to the file's first row (``default``).
    Linear in the number of ROIs: a PUT of thousands must not stall the server.
    """
    free = [True] * len(old)
    result: list[int | None] = [None] * len(new)
    settled = [False] * len(new)
    for i, roi in enumerate(new):
        if i < len(old) and old[i] == roi:
            free[i] = False
            result[i], settled[i] = old_origins[i], True
    # The free old positions of each ROI value, in order: the first free equal one matches.
    unmatched: defaultdict[Roi, deque[int]] = defaultdict(deque)
    for j, roi in enumerate(old):
        if free[j]:
            unmatched[roi].append(j)
    for i, roi in enumerate(new):
        if settled[i] or roi not in unmatched:
            continue
        positions = unmatched[roi]
        if positions:
            j = positions.popleft()
            free[j] = False
            result[i], settled[i] = old_origins[j], True
    vanished = deque(j for j in range(len(old)) if free[j])
    for i in range(len(new)):
        if not settled[i]:
            result[i] = old_origins[vanished.popleft()] if vanished else default
    return tuple(result)


class _PathIndex:
    """Finds the loaded file a CSV path names, by normalised path and then through symlinks."""

    def __init__(self, files: Iterable[LoadedFile]) -> None:
        self._plain: dict[str, int] = {}
        self._real: dict[str, int] = {}
        self._names: set[str] = set()
        self._urls: dict[str, int] = {}
        for file in files:
            if is_url(file.path):  # a URL matches as given, never as a local path
                self._urls.setdefault(file.path, file.index)
                continue
            plain = os.path.normpath(os.path.abspath(file.path))
            real = os.path.realpath(plain)
            self._plain.setdefault(plain, file.index)
            self._real.setdefault(real, file.index)
            self._names.update((os.path.basename(plain), os.path.basename(real)))

    def find(self, written: str, csv_directory: str, cwd: str) -> int | None:
        """The index of the file ``written`` names: absolute, else under the CSV dir, then cwd."""
        path = written.strip()
        if is_url(path):
            return self._urls.get(path)
        bases = [""] if os.path.isabs(path) else [csv_directory, cwd]
        for base in bases:
            candidate = os.path.normpath(os.path.abspath(os.path.join(base, path)))
            index = self._plain.get(candidate)
            if index is None and self._may_alias(candidate):
                index = self._real.get(os.path.realpath(candidate))
            if index is not None:
                return index
        return None

    def _may_alias(self, candidate: str) -> bool:
        # realpath costs a system call per path component and most rows of a large CSV name
        # files that are not loaded, so resolve only when a symlink could make them match.
        return os.path.basename(candidate) in self._names or os.path.islink(candidate)
