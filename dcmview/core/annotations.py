"""Rectangular ROIs: API payload validation, the in-memory store, EMBED CSV import and export.

The store is the only state users create. Every change is validated whole against the image it
belongs to before it replaces the old value, so a rejected request changes nothing. The input CSV
is read once and never written; edits leave the process only through an export or a recovery
file (:mod:`dcmview.core.recovery`).

An export counts (the store becomes clean) only once it was delivered: the caller takes a
:meth:`AnnotationStore.snapshot` and calls :meth:`AnnotationStore.mark_exported` when the whole
CSV reached the user, so a HEAD, an aborted download or a failed write keeps the edits dirty.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pathlib
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from dcmview.core.embed_csv import (
    Box,
    CellError,
    CsvDocument,
    CsvError,
    CsvRow,
    boxes,
    csv_bytes,
    frame_lists,
    integer,
    read_csv,
    write_csv,
)
from dcmview.core.errors import InvalidAnnotation, NotFound, PayloadTooLarge, PreconditionFailed
from dcmview.core.recovery import candidate_directories, file_name, recovery_directory, save
from dcmview.core.sources import is_url

# Far above any real reading (EMBED's busiest image has a handful of boxes); it bounds the work
# and memory of one PUT, whose body limit alone would let ~60,000 boxes through.
MAX_ROIS_PER_FILE = 10_000

__all__ = [
    "MAX_ROIS_PER_FILE",
    "AnnotationStore",
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

_PAYLOAD_KEYS = ("num_roi", "roi_coords", "roi_frames")


@dataclass(frozen=True)
class ImageShape:
    """What an ROI is checked against: pixel rows and columns, and the number of frames."""

    rows: int
    columns: int
    frame_count: int


@dataclass(frozen=True)
class Roi:
    """A box with exclusive max edges (``ymax == rows`` is valid) and its frames (``()``: all)."""

    ymin: int
    xmin: int
    ymax: int
    xmax: int
    frames: tuple[int, ...] = ()

    @property
    def box(self) -> Box:
        """The box in payload order ``(ymin, xmin, ymax, xmax)``."""
        return (self.ymin, self.xmin, self.ymax, self.xmax)


@dataclass(frozen=True)
class LoadedFile:
    """One file of the session registry as the store needs it (``shape`` None: no pixels)."""

    index: int
    path: str
    shape: ImageShape | None


# A file without pixel data takes no ROI; checking against an empty image says so in one place.
_NO_PIXELS = ImageShape(rows=0, columns=0, frame_count=0)


def parse_payload(body: object, shape: ImageShape) -> tuple[Roi, ...]:
    """Validate a whole PUT body and return its ROIs in canonical form.

    ``body`` is ``{"num_roi"?: int, "roi_coords": [[ymin, xmin, ymax, xmax], ...],
    "roi_frames"?: [[f, ...], ...]}``. Reversed corners are normalised, frame lists de-duplicated
    and sorted; a per-ROI ``[]`` means all frames, and a missing, null or empty ``roi_frames``
    means all frames for every ROI. Raises :class:`InvalidAnnotation` naming the ROI ("ROI 2")
    and the rule broken.
    """
    if not isinstance(body, dict):
        raise InvalidAnnotation(
            'the body must be a JSON object like {"roi_coords": [[ymin, xmin, ymax, xmax]]}'
        )
    unknown = sorted(str(key) for key in body if key not in _PAYLOAD_KEYS)
    if unknown:
        raise InvalidAnnotation(
            f"unknown field {', '.join(unknown)}; expected num_roi, roi_coords, roi_frames"
        )
    if "roi_coords" not in body:
        raise InvalidAnnotation("roi_coords is missing; send [] to remove every ROI")
    count_sent = body["roi_coords"]
    if isinstance(count_sent, (list, tuple)) and len(count_sent) > MAX_ROIS_PER_FILE:
        raise PayloadTooLarge(
            f"roi_coords has {len(count_sent):,} boxes; a file holds at most"
            f" {MAX_ROIS_PER_FILE:,} ROIs"
        )
    try:
        coords = boxes(body["roi_coords"])
    except CellError as exc:
        raise InvalidAnnotation(f"roi_coords: {exc}") from None
    try:
        raw_frames = body.get("roi_frames")
        frames = () if raw_frames is None else frame_lists(raw_frames)
    except CellError as exc:
        raise InvalidAnnotation(f"roi_frames: {exc}") from None
    if frames and len(frames) != len(coords):
        raise InvalidAnnotation(
            f"roi_frames has {len(frames)} lists but roi_coords has {len(coords)} boxes;"
            " give one frame list per ROI ([] for all frames)"
        )
    if body.get("num_roi") is not None:
        try:
            count = integer(body["num_roi"], "num_roi")
        except CellError as exc:
            raise InvalidAnnotation(str(exc)) from None
        if count != len(coords):
            raise InvalidAnnotation(
                f"num_roi is {count} but roi_coords has {len(coords)} boxes; they must agree"
            )
    return _rois(coords, frames, shape)


def to_payload(rois: Sequence[Roi]) -> dict[str, object]:
    """The canonical API payload of ``rois``: one frame list per ROI, ``[]`` for all frames."""
    return {
        "num_roi": len(rois),
        "roi_coords": [list(roi.box) for roi in rois],
        "roi_frames": [list(roi.frames) for roi in rois],
    }


def etag_of(payload: dict[str, object]) -> str:
    """A strong, quoted ETag of a canonical payload: equal content gives an equal tag."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:16] + '"'


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
    ) -> None:
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
        new = parse_payload(body, file.shape or _NO_PIXELS)
        with self._lock:
            old = self._rois.get(index, ())
            if not _if_match_ok(if_match, etag_of(to_payload(old))):
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
                parsed[index] = parse_payload(body, file.shape or _NO_PIXELS)
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

    def snapshot(self) -> tuple[str, int]:
        """The CSV text of every row and ROI (see :func:`write_csv`) and the version it shows.

        Nothing is marked exported: pass the version to :meth:`mark_exported` once the text
        was delivered.
        """
        with self._lock:
            return self._export_text(), self._version

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
        """Write the export CSV to ``path``; the edits count as exported once it is written."""
        target = pathlib.Path(path).expanduser()
        text, version = self.snapshot()
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
        target, failures = save(data, file_name(), folders)
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
            shape = self._files[index].shape or _NO_PIXELS
            try:
                found = _rois(row.coords, row.frames or (), shape)
            except InvalidAnnotation as exc:
                raise CsvError(exc.message, row.line, document.name) from None
            rois.setdefault(index, []).extend(found)
            origins.setdefault(index, []).extend([row_id] * len(found))
        self._rois = {i: tuple(r) for i, r in rois.items()}
        self._origins = {i: tuple(o) for i, o in origins.items()}

    def _export_text(self) -> str:
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
        blank = ("",) * len(self._columns)
        for index, rois in unrowed.items():
            new_row = CsvRow(
                line=0, path=self._files[index].path, coords=(), frames=None, extra=blank
            )
            rows.append(_with_rois(new_row, rois))
        return write_csv(self._columns, rows)


def _rois(
    coords: Sequence[Box], frames: Sequence[Sequence[int]], shape: ImageShape
) -> tuple[Roi, ...]:
    """Check boxes (and frames, empty for all) against an image; messages name ROI n."""
    return tuple(
        _roi(box, frames[n] if frames else (), shape, f"ROI {n + 1}")
        for n, box in enumerate(coords)
    )


def _roi(box: Box, frames: Sequence[int], shape: ImageShape, label: str) -> Roi:
    if shape.rows <= 0 or shape.columns <= 0:
        raise InvalidAnnotation(f"{label}: this file has no pixel data, so it cannot hold ROIs")
    ymin, ymax = sorted((box[0], box[2]))
    xmin, xmax = sorted((box[1], box[3]))
    for name, value in (("ymin", ymin), ("xmin", xmin)):
        if value < 0:
            raise InvalidAnnotation(f"{label}: {name} is {value}; coordinates cannot be negative")
    if ymin == ymax or xmin == xmax:
        raise InvalidAnnotation(
            f"{label} has zero {'height' if ymin == ymax else 'width'};"
            " ymin < ymax and xmin < xmax are required"
        )
    if ymax > shape.rows:
        raise InvalidAnnotation(
            f"{label}: ymax {ymax} is outside the image; ymax is at most rows ({shape.rows})"
        )
    if xmax > shape.columns:
        raise InvalidAnnotation(
            f"{label}: xmax {xmax} is outside the image; xmax is at most columns ({shape.columns})"
        )
    for frame in frames:
        if not 0 <= frame < shape.frame_count:
            raise InvalidAnnotation(
                f"{label}: frame {frame} does not exist; frames are 0 to {shape.frame_count - 1}"
            )
    return Roi(ymin, xmin, ymax, xmax, tuple(sorted(set(frames))))


def _with_rois(row: CsvRow, rois: Sequence[Roi]) -> CsvRow:
    frames = None if all(not roi.frames for roi in rois) else tuple(roi.frames for roi in rois)
    return dataclasses.replace(row, coords=tuple(roi.box for roi in rois), frames=frames)


def _if_match_ok(header: str | None, etag: str) -> bool:
    if header is None:
        return True
    for tag in (part.strip() for part in header.split(",")):
        if tag == "*":
            return True
        # If-Match uses strong comparison (RFC 9110 13.1.1): a weak tag never matches.
        if tag.startswith("W/"):
            continue
        if (tag if tag.startswith('"') else f'"{tag}"') == etag:
            return True
    return False


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
