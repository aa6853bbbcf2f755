"""One dcmview session: the files found (from many studies), their caches and their annotations.

A :class:`Session` is what both front ends hold, built by :func:`open_session` from what the user
gave (paths, an annotations CSV, filters, recursion, a cache budget). It is filled by
:meth:`Session.scan` (run in the background by the server, so the port answers before a large
folder is read), then answers every data question of the API, and :meth:`Session.close` ends
what it started.

The modules that need pydicom (discovery, frames, render, tags) are imported where they are
first used, not here: the server creates its Session before it answers its first request, and
pydicom's import (~150 ms) then happens in the scan thread instead of delaying that answer.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import annotations as ann
from .allocator import collector_paused, release_free_memory
from .cache import ByteLRU
from .errors import DcmviewError, NoShutter, NotFound, PixelDecodeFailed, is_lasting
from .filters import Filter
from .jobs import POOL
from .listing import Listing, build_listing, empty_listing, file_summary
from .masked_listing import csv_cleaner, mask_layers, mask_summary
from .masking import Masker, mask_tags
from .model import (
    AppliedWindow,
    DiscoveryEntry,
    DisplayEntry,
    FileRecord,
    RawEntry,
    WindowRequest,
)
from .transfer_syntaxes import native_byte_order, syntax_name

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

    from .layers.store import LayerStore

DEFAULT_DISPLAY_BUDGET = 256 * 1024 * 1024
DEFAULT_RAW_BUDGET = 384 * 1024 * 1024
# Parsed headers of recently used files, by estimated size: a header holding a large element
# (an embedded document, say) takes its size again in memory.
HEADER_CACHE_BYTES = 16 * 1024 * 1024
EXIT_OK = 0
EXIT_NO_FILES = 1
EXIT_USAGE = 2


class SessionError(ValueError):
    """A problem that ends a session before it serves; ``exit_code`` says how a CLI exits."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class NotReady(DcmviewError):
    code = "scan_in_progress"
    status = 503


class ScanCancelled(Exception):
    """The session ended before the scan did."""


def open_session(
    paths: Sequence[str],
    *,
    annotations: str | os.PathLike[str] | None = None,
    filters: Iterable[Filter] = (),
    recursive: bool = True,
    cache_budget: int | None = None,
    mask: bool = False,
    anon: bool = False,
    overlays: Sequence[str] = (),
) -> Session:
    """The one way a front end makes a session from the user's inputs (not scanned yet).

    Raises :class:`SessionError` (exit code 2) when the annotations CSV cannot be read or parsed.
    """
    document = None
    if annotations is not None:
        try:
            document = ann.read_csv(annotations)
        except ann.CsvError as exc:
            raise SessionError(f"invalid annotations CSV: {exc}", EXIT_USAGE) from exc
        except OSError as exc:
            raise SessionError(
                f"cannot read annotations CSV {os.fspath(annotations)}: {exc.strerror}", EXIT_USAGE
            ) from exc
    return Session(
        paths,
        recursive=recursive,
        filters=filters,
        annotations=document,
        cache_budget=cache_budget,
        mask=mask,
        anon=anon,
        overlays=overlays,
    )


class Session:
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
        mask: bool = False,
        anon: bool = False,
        overlays: Sequence[str] = (),
    ) -> None:
        self.paths = list(paths)
        # ``--mask``: identifiers replaced in every answer (SPEC §12; :mod:`.masking`).
        self.masker: Masker | None = Masker() if mask else None
        # URL inputs: read public buckets without credentials (--anon).
        self.anon = anon
        # ``--overlay`` files: layers placed on the loaded stacks (SPEC §10).
        self.overlays = list(overlays)
        self.layer_store: LayerStore | None = None
        # (records, series) of a scan that found no layer to read: the empty store is made
        # when first asked for (its modules and its stacks' planes cost ~0.1 s for 500 files).
        self._no_layers: tuple[list[FileRecord], list[dict[str, Any]]] | None = None
        self.recursive = recursive
        self.filters = list(filters)
        self.document = annotations
        self.cwd = cwd
        self.server_start_ms = int(time.time() * 1000)
        display_budget, raw_budget = split_budget(cache_budget)
        self.display_cache: ByteLRU[DisplayEntry] = ByteLRU(display_budget, is_lasting)
        self.raw_cache: ByteLRU[RawEntry] = ByteLRU(raw_budget, is_lasting)
        self.files: list[FileRecord] = []
        # ``files`` and ``discovery``, and their series and stacks (SPEC §9), as the start of
        # the JSON answers that list them (deflated); set with them when the scan completes.
        self.listing: Listing = empty_listing()
        self.discovery: list[DiscoveryEntry] = []
        self.scanned = 0
        self.scan_complete = False
        self.scan_error: str | None = None
        self.store: ann.AnnotationStore | None = None
        self.redactions: ann.AnnotationStore | None = None
        # file index -> the file indices of its stack (SPEC §9), for copying redactions.
        self._stack_files: dict[int, tuple[int, ...]] = {}
        self._headers: ByteLRU[Dataset] = ByteLRU(HEADER_CACHE_BYTES)
        self._lock = threading.Lock()
        self._cancelled = threading.Event()
        self._closed = False
        self._scan_ended = threading.Event()
        POOL.hold()  # the decode workers stay while any session is open

    def cancel(self) -> None:
        """Stop a scan in progress (the session is ending); it raises ScanCancelled."""
        self._cancelled.set()

    def close(self) -> None:
        """End what this session started: a scan in progress, its hold on the decode workers
        (they stop with the last open session of the process)."""
        self.cancel()
        with self._lock:
            closed, self._closed = self._closed, True
        if not closed and POOL.let_go() and "dcmview.core.decoding" in sys.modules:
            sys.modules["dcmview.core.decoding"].shutdown()  # imported by the first decode

    # -- discovery ------------------------------------------------------------------------
    def wait_scan(self, timeout: float | None = None) -> bool:
        """Wait until the scan has ended (complete, failed or cancelled); True when complete."""
        self._scan_ended.wait(timeout)
        return self.scan_complete

    def scan(self, progress: Callable[..., None] | None = None) -> None:
        """Read every header, then publish the ordered registry and its annotation store.

        Raises :class:`SessionError` (exit code 2) when a matched CSV row is invalid; nothing is
        published then.
        """
        try:
            with collector_paused():
                self._scan(progress)
        finally:
            self._scan_ended.set()

    def _scan(self, progress: Callable[..., None] | None) -> None:

        def tick(scanned: int, loaded: int, **listing: int) -> None:
            if self._cancelled.is_set():
                raise ScanCancelled("the session stopped during the scan")
            self.scanned = scanned
            if progress is not None:
                progress(scanned, loaded, **listing)

        from . import decoding
        from .discovery import scan
        from .series import series_list

        records, entries, scanned = scan(
            self.paths,
            recursive=self.recursive,
            filters=self.filters,
            progress=tick,
            identifiers=self.masker is not None,
            anon=self.anon,
        )
        if POOL.running and not any(decoding.wanted(r) for r in records):
            POOL.release()  # a large scan started them; no frame here will need them
        decoding.prepare(records)
        shapes: dict[int, ann.ImageShape | None] = {}  # one per layout (a scan shares them)
        loaded = [ann.LoadedFile(i, r.path, _shape(r, shapes)) for i, r in enumerate(records)]
        try:
            store = ann.AnnotationStore(loaded, self.document, cwd=self.cwd)
        except ann.CsvError as exc:
            raise SessionError(f"invalid annotations CSV: {exc}", EXIT_USAGE) from exc
        redactions = ann.AnnotationStore(loaded, kind=ann.REDACTIONS)
        # Encoded here, in the scan's thread, so that /api/files costs nothing.
        series_items = series_list(records)
        listing = build_listing(records, entries, series_items, self.masker)
        if self.masker is not None:
            store.cleaner = redactions.cleaner = csv_cleaner(self.masker, records)
        with self._lock:
            self.files = records
            self.discovery = entries
            self.scanned = scanned
            self.store = store
            self.redactions = redactions
            self._stack_files = listing.stack_files
            self.listing = listing
            self.scan_complete = True
        del listing
        release_free_memory()  # the scan's headers and encoding are garbage now
        # Layers are read after the files are published: a large SEG or NIfTI takes seconds,
        # and the images need not wait for it (``/api/layers`` answers 503 until then).
        if self.overlays or any(r.layer_source is not None for r in records):
            from .layers.loading import load_layers

            self.layer_store = load_layers(records, series_items, self.overlays)
        else:
            self._no_layers = (records, series_items)

    @staticmethod
    def warm_up() -> None:
        """Import the modules that scan, and those that read, render and encode frames
        (~35 ms, without pydicom): the server loads them before its first answer, so that
        neither its scan nor a first frame waits for them."""
        from . import (  # noqa: F401
            decoding,
            discovery,
            encapsulated,
            frames,
            reduced,
            render,
            series,
        )

    def first_frames_need_pydicom(self) -> bool:
        """Whether a loaded file's frames are read or rendered through pydicom: compressed or
        deflated, or with a LUT or palette to apply (uncompressed plain frames are not)."""
        return any(
            native_byte_order(r.transfer_syntax_uid) is None
            or r.layout.has_modality_lut
            or r.layout.has_voi_lut
            or r.layout.photometric == "PALETTE COLOR"
            for r in self.files
            if r.layout is not None
        )

    @staticmethod
    def warm_up_decoders() -> None:
        """Import pydicom, its decoders and the tag tree (~0.25 s, most of it pydicom listing
        every installed package's entry points). Compressed frames and tag trees need them;
        uncompressed frames do not, so the server does this once it is idle."""
        from pydicom.pixels import get_decoder  # noqa: F401

        from . import tags  # noqa: F401

    def series_list(self) -> list[dict[str, Any]]:
        """The series and stacks of ``files`` (SPEC §9), as ``/api/series`` lists them."""
        return json.loads(self.listing.series.text(b'"scan_complete":true}'))["series"]

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

    def redaction_store(self) -> ann.AnnotationStore:
        store = self.redactions
        if store is None:
            raise NotReady("the scan is still running; try again when scan_complete is true")
        return store

    def redactions_by_path(self) -> dict[str, dict[str, Any]]:
        """Current redaction boxes of every file that has some, keyed by file path."""
        store = self.redaction_store()
        return {self.files[i].path: payload for i, payload in store.all_payloads().items()}

    def copy_redactions_to_stack(self, index: int) -> list[int]:
        """Give every file of ``index``'s stack the boxes of ``index``; the stack's file indices.

        All or nothing: a box that does not fit one of the files (a stack shares its matrix, so
        only a file without pixels) raises and changes nothing.
        """
        self.record(index)
        store = self.redaction_store()
        payload, _ = store.get(index)
        targets = self._stack_files.get(index, (index,))
        store.put_many({i: payload for i in targets})
        return list(targets)

    def _redaction_boxes(self, index: int) -> tuple[tuple[int, int, int, int], ...]:
        """The boxes painted over ``index``'s display PNGs; none for an unknown file (the
        cache-only path must not raise: the request's own checks answer it)."""
        store = self.redactions
        if store is None or not 0 <= index < len(self.files):
            return ()
        return tuple(roi.box for roi in store.rois(index))

    def layers(self) -> LayerStore:
        """The layers over this session's stacks (SPEC §10); 503 until they are read (just
        after the scan completes)."""
        store = self.ready_layers()
        if store is None:
            raise NotReady("the layers are still being read; try again in a moment")
        return store

    def ready_layers(self) -> LayerStore | None:
        """The layer store, None while the layers are being read."""
        if self.layer_store is None and self._no_layers is not None:
            from .layers.loading import load_layers

            with self._lock:
                if self.layer_store is None:
                    self.layer_store = load_layers(*self._no_layers)
        return self.layer_store

    def layer_listing(self) -> list[dict[str, Any]]:
        """``/api/layers``: the layers as JSON, masked under ``--mask`` (their names and
        sources are often file names, which can hold identifiers)."""
        listing = self.layers().listing()
        if self.masker is None:
            return listing
        return mask_layers(listing, self._scrub_all())

    def layer_contours(self, layer_id: str, virtual: int) -> list[dict[str, Any]]:
        """``/api/layer/:id/frame/:v/contours``, names masked under ``--mask``."""
        contours = self.layers().contours(layer_id, virtual)
        if self.masker is None:
            return contours
        scrub = self._scrub_all()
        return [{**c, "name": scrub(str(c.get("name", "")))} for c in contours]

    def _scrub_all(self) -> Callable[[str], str]:
        """Under ``--mask``: text with every loaded file's identifiers removed."""
        cleaner = self.annotation_store().cleaner
        assert cleaner is not None  # set with the store when the session masks
        return cleaner(None)

    def annotations_by_path(self) -> dict[str, dict[str, Any]]:
        """Current ROIs of every file that has some, keyed by file path (for Python callers)."""
        store = self.annotation_store()
        return {self.files[i].path: payload for i, payload in store.all_payloads().items()}

    def set_annotations(self, rois: Mapping[str | int, Mapping[str, Any]]) -> None:
        """Replace the ROIs of some files: ``{path or index: payload}``, all or nothing.

        Raises ValueError naming the first unknown file or invalid payload; nothing changes then.
        """
        store = self.annotation_store()
        by_path = {r.path: i for i, r in enumerate(self.files)}
        targets: dict[int, Mapping[str, Any]] = {}
        for key, payload in rois.items():
            index = key if isinstance(key, int) else by_path.get(_as_path(key))
            if index is None or not 0 <= index < len(self.files):
                raise ValueError(f"no loaded file {key!r}")
            targets[index] = payload
        try:
            store.put_many(targets)
        except DcmviewError as exc:
            raise ValueError(exc.message) from None

    def write_export(self, path: str | os.PathLike[str]) -> Path:
        """Write the annotations export CSV to ``path`` (chosen by the user) and return it."""
        return self.annotation_store().write_export(path)

    # -- JSON views -----------------------------------------------------------------------
    def summary(self, index: int) -> dict[str, Any]:
        """The FileSummary of SPEC §3 (masked in a masked session)."""
        record = self.record(index)
        summary = file_summary(index, record)
        if self.masker is None:
            return summary
        return mask_summary(summary, record.identifiers, self.masker)

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

        record = self.record(index)
        pixel_vr = record.pixel_data_vr or "OB"
        tree = tag_tree(self.header(index), record.pixel_data_length, pixel_vr)
        masker = self.masker
        if masker is None:
            return tree
        pseudonym = masker.pseudonym(
            record.fields.get("patient_id", ""), record.fields.get("patient_name", "")
        )
        return mask_tags(tree, pseudonym, masker.scrubber(record.identifiers, pseudonym))

    # -- frames ---------------------------------------------------------------------------
    def raw(self, index: int, frame: int) -> tuple[RawEntry, bool]:
        """``/raw``: decoded samples and what they are, through the raw cache; and whether it
        was a cache hit."""
        from . import decoding
        from .frames import check_frame

        record = self.record(index)
        check_frame(record, frame)
        entry, hit = self.raw_cache.get_or_compute(
            (index, frame), lambda: decoding.decode(record, frame), _entry_size
        )
        self._read_ahead(index, record, frame)
        return entry, hit

    def _read_ahead(self, index: int, record: FileRecord, frame: int) -> None:
        """Start decoding the next frames of a compressed file (in the worker processes, or a
        thread for fast decoders), so that scrolling or playing forward finds them decoded."""
        from . import decoding

        depth = decoding.read_ahead_depth(record)
        for ahead in range(frame + 1, min(frame + 1 + depth, record.frame_count)):
            key = (index, ahead)
            if self.raw_cache.known(key):
                continue
            future = decoding.submit(record, ahead)
            if future is None:
                return
            self.raw_cache.adopt(key, future, _entry_size)

    def display(self, index: int, frame: int, request: WindowRequest) -> tuple[DisplayEntry, bool]:
        """The display PNG and how it was windowed, through the display cache; and whether it
        was a cache hit."""
        from .budget import IN_FLIGHT, check_display, display_cost
        from .frames import check_frame
        from .reduced import reduced_frame
        from .render import display_frame

        record = self.record(index)
        check_frame(record, frame)
        check_display(record)

        # Redaction boxes are drawn over display PNGs (never over /raw); the cache key holds
        # them, so an edit is seen at once and undoing it finds the old PNG again.
        boxes = self._redaction_boxes(index)

        def header() -> Dataset:
            return self.header(index)

        def compute() -> DisplayEntry:
            if request.reduce:
                # A reduced picture decodes apart from /raw (the raw cache holds full frames).
                with IN_FLIGHT.reserve(display_cost(record)):
                    small = reduced_frame(record, frame, request.reduce)
                    if small is not None:
                        return display_frame(
                            record, small[0], header, request, frame, small[1], boxes
                        )
            (body, description), _ = self.raw(index, frame)
            arr = description.array(body)
            with IN_FLIGHT.reserve(display_cost(record)):
                return display_frame(record, arr, header, request, frame, redactions=boxes)

        key = (index, frame, request.key, boxes)
        return self.display_cache.get_or_compute(key, compute, _entry_size)

    def shutter(self, index: int) -> tuple[DisplayEntry, bool]:
        """The display shutter as an RGBA PNG to lay over the image (its colour where the image
        is shuttered, transparent elsewhere), through the display cache; and whether it was a
        cache hit. The viewer draws it, so that its user can look under it."""
        from .budget import IN_FLIGHT, check_display, display_cost
        from .png import encode_png
        from .shutters import display_colour, image_mask, shutter_rgba

        record = self.record(index)
        layout, shutter = record.layout, record.shutter
        if layout is None or shutter is None:
            raise NoShutter(f"file {index} has no display shutter")
        check_display(record)

        def compute() -> DisplayEntry:
            with IN_FLIGHT.reserve(display_cost(record)):
                hidden = image_mask(
                    shutter, layout.rows, layout.columns, lambda: self.header(index)
                )
                colour = layout.samples_per_pixel > 1 or layout.photometric == "PALETTE COLOR"
                rgba = shutter_rgba(hidden, display_colour(shutter, colour))
                return encode_png(rgba), AppliedWindow()

        return self.display_cache.get_or_compute((index, -1, ("shutter",)), compute, _entry_size)

    def cached_raw(self, index: int, frame: int) -> RawEntry | None:
        """``/raw`` from the cache only (None on a miss): cheap enough for the event loop.

        A hit on a compressed file reads ahead too (handing work to the workers is cheap)."""
        entry = self.raw_cache.peek((index, frame))
        if entry is not None and self.scan_complete and 0 <= index < len(self.files):
            self._read_ahead(index, self.files[index], frame)
        return entry

    def cached_display(self, index: int, frame: int, request: WindowRequest) -> DisplayEntry | None:
        """The display PNG from the cache only (None on a miss)."""
        return self.display_cache.peek((index, frame, request.key, self._redaction_boxes(index)))

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
            if record.remote is not None:
                from .sources import remote_header

                return remote_header(record)
            with open_record(record) as fp:
                return pydicom.dcmread(fp, stop_before_pixels=True)
    except DcmviewError:
        raise
    except Exception as exc:
        raise PixelDecodeFailed(f"the header can no longer be read: {type(exc).__name__}") from exc


def _as_path(key: str) -> str:
    """A file named by a caller as the file list names it: URLs as given, paths absolute."""
    from .sources import is_url

    return key if is_url(key) else os.path.abspath(key)


def _header_size(record: FileRecord) -> int:
    """Memory a parsed header takes, about: twice its bytes on disk, and ~128 KiB of elements
    (measured over pydicom's test files: 35-120 KiB for headers of 1-6 KB)."""
    on_disk = record.pixel_data_offset or record.size or 0
    return 2 * on_disk + 128 * 1024


def split_budget(total: int | None) -> tuple[int, int]:
    """Display and raw cache budgets: the defaults, or ``total`` shared in the same 2:3 ratio."""
    if total is None:
        return DEFAULT_DISPLAY_BUDGET, DEFAULT_RAW_BUDGET
    display = total * DEFAULT_DISPLAY_BUDGET // (DEFAULT_DISPLAY_BUDGET + DEFAULT_RAW_BUDGET)
    return display, total - display


def _shape(record: FileRecord, shapes: dict[int, ann.ImageShape | None]) -> ann.ImageShape | None:
    """The shape ROIs of ``record`` are checked against, one per layout in ``shapes`` (by
    identity: the records alive hold them)."""
    layout = record.layout
    if layout is None:
        return None
    shape = shapes.get(id(layout))
    if shape is None:
        shape = shapes[id(layout)] = ann.ImageShape(layout.rows, layout.columns, layout.frame_count)
    return shape


def _entry_size(entry: RawEntry | DisplayEntry) -> int:
    """Bytes a cached entry takes: its body, and the description, tuple, key and LRU links
    around it (about 1 KB, estimated)."""
    return len(entry[0]) + 1024
