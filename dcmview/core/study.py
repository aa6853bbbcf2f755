"""The registry of one session: the files found, their caches and their annotations.

A :class:`Study` is what both front ends hold. It is filled by :meth:`Study.scan` (run in the
background by the server, so the port answers before a large folder is read) and then answers
every data question of the API.

The modules that need pydicom (discovery, frames, render, tags) are imported where they are
first used, not here: the server creates its Study before it answers its first request, and
pydicom's import (~150 ms) then happens in the scan thread instead of delaying that answer.
"""

from __future__ import annotations

import json
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import annotations as ann
from .cache import ByteLRU
from .errors import DcmviewError, NotFound, PixelDecodeFailed, is_lasting
from .filters import Filter
from .model import DiscoveryEntry, FileRecord, WindowRequest
from .transfer_syntaxes import syntax_name

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

DEFAULT_DISPLAY_BUDGET = 256 * 1024 * 1024
DEFAULT_RAW_BUDGET = 384 * 1024 * 1024
# Parsed headers of recently used files, by estimated size: a header holding a large element
# (an embedded document, say) takes its size again in memory.
HEADER_CACHE_BYTES = 16 * 1024 * 1024


class NotReady(DcmviewError):
    code = "scan_in_progress"
    status = 503


class ScanCancelled(Exception):
    """The session ended before the scan did."""


RawEntry = tuple[bytes, dict[str, str]]


class Study:
    """Files, caches and annotations of one dcmview session (in memory only)."""

    def __init__(
        self,
        paths: Sequence[str],
        *,
        recursive: bool = True,
        filters: Iterable[Filter] = (),
        annotations: ann.CsvDocument | None = None,
        cache_budget: int | None = None,
        cwd: str | None = None,
    ) -> None:
        self.paths = list(paths)
        self.recursive = recursive
        self.filters = list(filters)
        self.document = annotations
        self.cwd = cwd
        self.server_start_ms = int(time.time() * 1000)
        display_budget, raw_budget = split_budget(cache_budget)
        self.display_cache: ByteLRU[RawEntry] = ByteLRU(display_budget, is_lasting)
        self.raw_cache: ByteLRU[RawEntry] = ByteLRU(raw_budget, is_lasting)
        self.files: list[FileRecord] = []
        # ``files`` and ``discovery`` as JSON text, set with them when the scan completes.
        self.listing_json: tuple[str, str] = ("[]", "[]")
        self.discovery: list[DiscoveryEntry] = []
        self.scanned = 0
        self.scan_complete = False
        self.scan_error: str | None = None
        self.store: ann.AnnotationStore | None = None
        self._headers: ByteLRU[Dataset] = ByteLRU(HEADER_CACHE_BYTES)
        self._lock = threading.Lock()
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        """Stop a scan in progress (the session is ending); it raises ScanCancelled."""
        self._cancelled.set()

    # -- discovery ------------------------------------------------------------------------
    def scan(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Read every header, then publish the ordered registry and its annotation store.

        Raises ``annotations.CsvError`` when a matched CSV row is invalid; nothing is published
        then.
        """

        def tick(scanned: int, loaded: int) -> None:
            if self._cancelled.is_set():
                raise ScanCancelled("the session stopped during the scan")
            self.scanned = scanned
            if progress is not None:
                progress(scanned, loaded)

        # Load the pixel modules now, in this background thread, so the first frame request
        # does not pay for their import.
        from . import encapsulated, frames, render, tags, workers  # noqa: F401
        from .discovery import scan

        records, entries, scanned = scan(
            self.paths, recursive=self.recursive, filters=self.filters, progress=tick
        )
        if workers.running() and not any(workers.wanted(r) for r in records):
            workers.release()  # a large scan started them; no frame here will need them
        loaded = [
            ann.LoadedFile(index=i, path=r.path, shape=_shape(r)) for i, r in enumerate(records)
        ]
        store = ann.AnnotationStore(loaded, self.document, cwd=self.cwd)
        # The file list never changes once published: encoded here, in the scan's thread, it
        # costs /api/files nothing (10,000 files are ~8 MB of JSON, ~150 ms to encode).
        listing = _json([_summary(i, r) for i, r in enumerate(records)])
        found = _json([e.as_json() for e in entries])
        with self._lock:
            self.files = records
            self.discovery = entries
            self.scanned = scanned
            self.store = store
            self.listing_json = (listing, found)
            self.scan_complete = True

    @property
    def skipped(self) -> int:
        return sum(1 for e in self.discovery if e.disposition == "skipped")

    @property
    def filtered(self) -> int:
        return sum(1 for e in self.discovery if e.disposition == "filtered")

    def record(self, index: int) -> FileRecord:
        files = self.files
        if not 0 <= index < len(files):
            raise NotFound(f"no file with index {index}; {len(files)} file(s) are loaded")
        return files[index]

    def annotation_store(self) -> ann.AnnotationStore:
        store = self.store
        if store is None:
            raise NotReady("the scan is still running; try again when scan_complete is true")
        return store

    def annotations_by_path(self) -> dict[str, dict[str, Any]]:
        """Current ROIs of every file that has some, keyed by file path (for Python callers)."""
        store = self.annotation_store()
        return {self.files[i].path: payload for i, payload in store.all_payloads().items()}

    def write_export(self, path: str | os.PathLike[str]) -> Path:
        """Write the annotations export CSV to ``path`` (chosen by the user) and return it."""
        target = Path(path).expanduser()
        text = self.annotation_store().export_csv()
        target.write_text(text, encoding="utf-8", newline="")
        return target

    # -- JSON views -----------------------------------------------------------------------
    def summary(self, index: int) -> dict[str, Any]:
        """The FileSummary of SPEC §3."""
        return _summary(index, self.record(index))

    def info(self, index: int) -> dict[str, Any]:
        """Frame metadata for the viewer (``/api/file/:i/info``)."""
        record = self.record(index)
        layout = record.layout
        return {
            "frame_count": record.frame_count,
            "rows": layout.rows if layout else None,
            "columns": layout.columns if layout else None,
            "transfer_syntax": syntax_name(record.transfer_syntax_uid),
            "transfer_syntax_uid": record.transfer_syntax_uid,
            "has_pixels": record.has_pixels,
            "default_window": layout.default_window.as_json()
            if layout and layout.default_window
            else None,
            "photometric_interpretation": layout.photometric if layout else None,
            "samples_per_pixel": layout.samples_per_pixel if layout else None,
            "bits_allocated": layout.bits_allocated if layout else None,
            "pixel_spacing": list(layout.pixel_spacing)
            if layout and layout.pixel_spacing
            else None,
        }

    def tags(self, index: int) -> list[dict[str, Any]]:
        from .tags import tag_tree

        return tag_tree(self.header(index), self.record(index).pixel_data_length)

    # -- frames ---------------------------------------------------------------------------
    def raw(self, index: int, frame: int) -> tuple[bytes, dict[str, str], bool]:
        """``/raw``: decoded samples and their headers, through the raw cache."""
        from . import workers
        from .frames import check_frame

        record = self.record(index)
        check_frame(record, frame)
        (body, headers), hit = self.raw_cache.get_or_compute(
            (index, frame), lambda: workers.decode(record, frame), _entry_size
        )
        self._read_ahead(index, record, frame)
        return body, headers, hit

    def _read_ahead(self, index: int, record: FileRecord, frame: int) -> None:
        """Start decoding the next frames of a compressed file (in the worker processes, or a
        thread for fast decoders), so that scrolling or playing forward finds them decoded."""
        if record.layout is None or not record.layout.encapsulated:
            return
        from . import workers

        depth = workers.read_ahead_depth(record)
        for ahead in range(frame + 1, min(frame + 1 + depth, record.frame_count)):
            key = (index, ahead)
            if self.raw_cache.known(key):
                continue
            future = workers.submit(record, ahead)
            if future is None:
                return
            self.raw_cache.adopt(key, future, _entry_size)

    def display(
        self, index: int, frame: int, request: WindowRequest
    ) -> tuple[bytes, dict[str, str], bool]:
        """The display PNG and its window headers, through the display cache."""
        from .budget import IN_FLIGHT, check_display, display_cost
        from .frames import check_frame
        from .render import display_frame

        record = self.record(index)
        check_frame(record, frame)
        check_display(record)

        def compute() -> RawEntry:
            body, headers, _ = self.raw(index, frame)
            arr = _array_from_raw(body, headers)
            with IN_FLIGHT.reserve(display_cost(record)):
                return display_frame(record, arr, lambda: self.header(index), request)

        (body, headers), hit = self.display_cache.get_or_compute(
            (index, frame, request.key), compute, _entry_size
        )
        return body, headers, hit

    def cached_raw(self, index: int, frame: int) -> tuple[bytes, dict[str, str]] | None:
        """``/raw`` from the cache only (None on a miss): cheap enough for the event loop.

        A hit on a compressed file reads ahead too (handing work to the workers is cheap)."""
        entry = self.raw_cache.peek((index, frame))
        if entry is not None and self.scan_complete and 0 <= index < len(self.files):
            self._read_ahead(index, self.files[index], frame)
        return entry

    def cached_display(
        self, index: int, frame: int, request: WindowRequest
    ) -> tuple[bytes, dict[str, str]] | None:
        """The display PNG from the cache only (None on a miss)."""
        return self.display_cache.peek((index, frame, request.key))

    def header(self, index: int) -> Dataset:
        """The header dataset of a file (everything before Pixel Data), kept in a small LRU."""
        record = self.record(index)
        ds, _ = self._headers.get_or_compute(
            index, lambda: _read_header(record), lambda _: _header_size(record)
        )
        return ds


def _read_header(record: FileRecord) -> Dataset:
    import pydicom

    from .fileio import open_record

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with open_record(record) as fp:
                return pydicom.dcmread(fp, stop_before_pixels=True)
    except DcmviewError:
        raise
    except Exception as exc:
        raise PixelDecodeFailed(f"the header can no longer be read: {type(exc).__name__}") from exc


def _header_size(record: FileRecord) -> int:
    """Memory a parsed header takes, about: twice its bytes on disk, and ~128 KiB of elements
    (measured over pydicom's test files: 35-120 KiB for headers of 1-6 KB)."""
    on_disk = record.pixel_data_offset or record.size or 0
    return 2 * on_disk + 128 * 1024


def _summary(index: int, record: FileRecord) -> dict[str, Any]:
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
    }


def _json(value: Any) -> str:
    """JSON as the API writes it (compact, no NaN)."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def split_budget(total: int | None) -> tuple[int, int]:
    """Display and raw cache budgets: the defaults, or ``total`` shared in the same 2:3 ratio."""
    if total is None:
        return DEFAULT_DISPLAY_BUDGET, DEFAULT_RAW_BUDGET
    display = total * DEFAULT_DISPLAY_BUDGET // (DEFAULT_DISPLAY_BUDGET + DEFAULT_RAW_BUDGET)
    return display, total - display


def _shape(record: FileRecord) -> ann.ImageShape | None:
    layout = record.layout
    if layout is None:
        return None
    return ann.ImageShape(rows=layout.rows, columns=layout.columns, frame_count=layout.frame_count)


def _entry_size(entry: RawEntry) -> int:
    """Bytes a cached entry takes: its body, and ~100 bytes per header beyond their text plus
    the tuple, key and LRU links around it (measured: 1.4 KB beside a raw frame's body)."""
    body, headers = entry
    return len(body) + 400 + sum(100 + len(k) + len(v) for k, v in headers.items())


def _array_from_raw(body: bytes, headers: dict[str, str]) -> np.ndarray:
    rows = int(headers["X-Frame-Rows"])
    cols = int(headers["X-Frame-Columns"])
    spp = int(headers["X-Frame-Samples-Per-Pixel"])
    bits = int(headers["X-Frame-Bits-Allocated"])
    signed = headers["X-Frame-Pixel-Representation"] == "1"
    dtype = np.dtype(f"<{'i' if signed else 'u'}{bits // 8}")
    arr = np.frombuffer(body, dtype=dtype)
    return arr.reshape((rows, cols, spp) if spp > 1 else (rows, cols))
