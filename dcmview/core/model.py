"""Small value types shared by the core: one loaded file, a window, a discovery outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .geometry import Geometry
    from .shutters import Shutter

import numpy as np


@dataclass(frozen=True)
class Window:
    """A linear VOI window in modality units (DICOM PS3.3 C.11.2.1.2)."""

    center: float
    width: float

    def as_json(self) -> dict[str, float]:
        return {"center": self.center, "width": self.width}


@dataclass(frozen=True)
class PixelLayout:
    """What the header says about the Pixel Data, read once at discovery."""

    rows: int
    columns: int
    frame_count: int
    samples_per_pixel: int
    bits_allocated: int
    bits_stored: int
    pixel_representation: int
    photometric: str
    planar_configuration: int
    encapsulated: bool
    rescale_slope: float
    rescale_intercept: float
    has_modality_lut: bool
    has_voi_lut: bool
    default_window: Window | None
    pixel_padding: tuple[int, int] | None
    pixel_spacing: tuple[float, float] | None

    @property
    def frame_bytes(self) -> int:
        """Bytes one decoded frame needs in memory (before any conversion)."""
        per_sample = max(1, self.bits_allocated // 8)
        return self.rows * self.columns * self.samples_per_pixel * per_sample


# The FileSummary fields a record keeps, in the order the API lists them.
FIELD_NAMES = (
    "patient_id",
    "patient_name",
    "study_date",
    "study_description",
    "study_instance_uid",
    "series_instance_uid",
    "sop_instance_uid",
    "series_number",
    "series_description",
    "modality",
    "instance_number",
    "burned_in_annotation",
)


@dataclass(frozen=True)
class Remote:
    """Where a file that is not on this machine lives: read through fsspec (``kind``
    "fsspec": s3://, gs://, https://...) or a DICOMweb server ("dicomweb"). Small and
    picklable: a decode worker process reopens the file from it."""

    kind: str
    anon: bool = False
    # The object's version when the listing gave one (S3's ETag): reads ask for it.
    version: str | None = None


# Slots: a session keeps one record per file (100,000 files: every byte of a record is 100 KB).
@dataclass(frozen=True, slots=True)
class FileRecord:
    """One loaded file: its summary fields (the API's FileSummary) and its pixel layout."""

    path: str
    label: str
    transfer_syntax_uid: str
    # The FileSummary fields named by FIELD_NAMES, in that order (a tuple takes a third of a
    # dict's memory: see the ``fields`` property).
    values: tuple[Any, ...]
    layout: PixelLayout | None
    # Set when the file has Pixel Data whose header description is unusable (frames answer 422).
    pixel_problem: str | None = None
    # Bytes of the Pixel Data value (None when the file has none); shown in the tag tree.
    pixel_data_length: int | None = None
    # Where that value starts in the file (None for deflated files), and the Extended Offset
    # Table when there is one: what reading one encapsulated frame's own header needs.
    pixel_data_offset: int | None = None
    # Its VR as the file writes it (OB or OW; for data without a written VR, what PS3.5 gives).
    pixel_data_vr: str | None = None
    extended_offsets: tuple[bytes, bytes] | None = None
    # Frame of Reference, orientation, position and per-frame functional groups (None: none).
    geometry: Geometry | None = field(compare=False, default=None)
    # The display shutter (SPEC §12): applied to display PNGs and by the viewer, never to /raw.
    shutter: Shutter | None = None
    # The file's size and modification time when discovery read it: a file changed since is
    # refused (409) rather than served as a mix of two versions. None: not checked.
    size: int | None = None
    mtime_ns: int | None = None
    # ``(keyword, value)`` of the identifiers ``--mask`` removes from text it keeps
    # (:data:`dcmview.core.masking.SCRUBBED_KEYWORDS`, the ones present).
    identifiers: tuple[tuple[str, str], ...] = field(compare=False, default=())
    # None for a local file; else how to reach it (``path`` is then its URL, as given).
    remote: Remote | None = None
    # What this file is as a layer (SPEC §10): "seg", "rtstruct", "rtdose", "pmap", "overlay"
    # (an image with overlay planes), or None.
    layer_source: str | None = None

    @property
    def has_pixels(self) -> bool:
        return self.layout is not None or self.pixel_problem is not None

    @property
    def fields(self) -> dict[str, Any]:
        """The FileSummary fields: ``patient_id`` … ``instance_number`` (FIELD_NAMES)."""
        return dict(zip(FIELD_NAMES, self.values, strict=True))

    @property
    def sort_key(self) -> tuple[Any, ...]:
        """The explorer's order: study date and UID, series number and UID, instance, path
        (files without a number after those with one)."""
        v = self.values
        return (v[2], v[4], _none_last(v[7]), v[5], _none_last(v[10]), self.path)

    @property
    def frame_count(self) -> int:
        return self.layout.frame_count if self.layout else 0

    @property
    def syntax_from_frames(self) -> bool:
        """True for a DICOMweb file whose server did not give its transfer syntax when it was
        listed (``transfer_syntax_uid`` is empty): each frame's answer tells it."""
        return (
            self.remote is not None
            and self.remote.kind == "dicomweb"
            and not self.transfer_syntax_uid
        )


def _none_last(value: int | None) -> tuple[int, int]:
    return (1, 0) if value is None else (0, value)


@dataclass(frozen=True)
class DiscoveryEntry:
    """A path that was not loaded, and why (``disposition`` is ``skipped`` or ``filtered``)."""

    path: str
    disposition: str
    reason: str

    def as_json(self) -> dict[str, str]:
        return {"path": self.path, "disposition": self.disposition, "reason": self.reason}


@dataclass(frozen=True)
class WindowRequest:
    """What the client asked for: ``mode`` "default" or "full_dynamic", an optional window,
    whether the display shutter blanks what it covers (``shutter=off`` looks under it), and
    ``reduce``: a picture at 1/2^reduce of each side, when the codec can decode one cheaply."""

    mode: str = "default"
    window: Window | None = None
    shutter: bool = True
    reduce: int = 0

    @property
    def key(self) -> tuple[object, ...]:
        w = self.window
        return (
            self.mode,
            w.center if w else None,
            w.width if w else None,
            self.shutter,
            self.reduce,
        )


@dataclass(frozen=True)
class FrameDescription:
    """What the decoded samples of one frame are: enough to rebuild the array and to window it.

    ``/raw`` answers carry it as ``X-Frame-*`` headers (written by the router, not here).
    """

    rows: int
    columns: int
    bits_allocated: int  # of the samples as served (8, 16 or 32), not necessarily the file's
    bits_stored: int
    signed: bool
    samples_per_pixel: int
    photometric: str
    rescale_slope: float
    rescale_intercept: float
    default_window: Window | None

    @property
    def dtype(self) -> np.dtype[Any]:
        return np.dtype(f"<{'i' if self.signed else 'u'}{self.bits_allocated // 8}")

    def array(self, body: bytes) -> np.ndarray:
        """The samples of ``body`` (little-endian, interleaved) as an array, without a copy."""
        arr = np.frombuffer(body, dtype=self.dtype)
        spp = self.samples_per_pixel
        return arr.reshape((self.rows, self.columns, spp) if spp > 1 else (self.rows, self.columns))


@dataclass(frozen=True)
class AppliedWindow:
    """How a display PNG was windowed: ``applied`` is "linear", "voi_lut" or "full_dynamic"
    (None for colour, which is not windowed); ``window`` is set for linear windows; ``reduce``
    says the picture is 1/2^reduce of the frame's size on each side (0: the full frame)."""

    applied: str | None = None
    window: Window | None = None
    reduce: int = 0


# A cache entry: a decoded frame's bytes and what they are; a display PNG and how it was windowed.
RawEntry = tuple[bytes, FrameDescription]
DisplayEntry = tuple[bytes, AppliedWindow]
