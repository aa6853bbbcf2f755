"""Find DICOM files under the given paths, read their headers, filter, label and order them.

Only headers are read (``stop_before_pixels``); no pixel data is touched at start-up.
"""

from __future__ import annotations

import os
import stat
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Any, BinaryIO

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from .fileio import NotRegularFile, kind_of, open_regular
from .filters import Filter, text_of
from .geometry import read_geometry
from .header_reader import Header, read_header
from .header_values import has_element, header_value, uid_value
from .layers.detect import layer_source
from .masking import SCRUBBED_KEYWORDS
from .model import FIELD_NAMES, DiscoveryEntry, FileRecord, PixelLayout, Window
from .shutters import Shutter, read_shutter
from .transfer_syntaxes import is_deflated, is_encapsulated

# Filter names of the original program, mapped to DICOM keywords.
_DICOMDIR_CLASS = "1.2.840.10008.1.3.10"
_PIXEL_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)
_PIXEL_VRS = (b"OB", b"OW", b"OF", b"OD", b"UN")


def iter_candidate_paths(paths: Sequence[str], recursive: bool) -> Iterator[tuple[str, str | None]]:
    """Yield ``(absolute path, problem)`` for every file under ``paths`` in a stable order.

    ``problem`` is None for a readable file, else why the path cannot be used.
    """
    for given in paths:
        path = os.path.abspath(os.path.expanduser(given))
        if os.path.isdir(path):
            yield from _walk(path, recursive)
        elif os.path.isfile(path):
            yield path, None
        elif os.path.exists(path):
            yield path, f"not a regular file: {kind_of(os.stat(path).st_mode)}"
        else:
            yield path, "no such file or directory"


def _walk(root: str, recursive: bool) -> Iterator[tuple[str, str | None]]:
    """Files under ``root`` (its subfolders too when ``recursive``), each folder's files in
    name order before its subfolders, depth first. Iterative: os.walk recurses once per level
    and a folder nested ~1,000 deep ended the scan with a RecursionError.

    Links to folders are followed, each real folder read once (a link back up the tree would
    loop). Hidden folders and Python virtual environments below ``root`` are not read, and
    reported (a home folder holds thousands of files in them, none a user means to view);
    named on the command line, they are read. Named pipes, sockets and devices are reported.
    """
    pending = [root]
    seen = {_identity(root)}
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as exc:
            yield folder, f"cannot list directory: {exc.strerror}"
            continue
        subfolders = []
        for entry in entries:
            try:
                if entry.is_dir():  # a folder, or a link to one
                    if recursive:
                        skip = _skipped_folder(entry, seen)
                        if skip is not None:
                            yield entry.path, skip
                        else:
                            subfolders.append(entry.path)
                    continue
                mode = entry.stat().st_mode
            except OSError:
                yield entry.path, None  # a broken link: reading it says why
                continue
            yield entry.path, None if stat.S_ISREG(mode) else f"not a regular file: {kind_of(mode)}"
        pending.extend(reversed(subfolders))


def _skipped_folder(entry: os.DirEntry[str], seen: set[tuple[int, int]]) -> str | None:
    """Why a subfolder is not read (None: read it); marks it seen."""
    if entry.name.startswith("."):
        return "hidden folder: not read (name it on the command line to read it)"
    if os.path.isfile(os.path.join(entry.path, "pyvenv.cfg")):
        return "Python virtual environment: not read (name it on the command line to read it)"
    identity = _identity(entry.path)
    if identity in seen:
        return "link to a folder that is read already (under another name, or a loop)"
    seen.add(identity)
    return None


def _identity(folder: str) -> tuple[int, int]:
    info = os.stat(folder)
    return info.st_dev, info.st_ino


def read_record(path: str) -> tuple[FileRecord | None, Dataset | None, str | None]:
    """Read one file's header: ``(record, header, None)`` or ``(None, None, reason)``."""
    try:
        fp, info = open_regular(path)
        with fp, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            header = read_header_or_fallback(fp)
    except NotRegularFile as exc:
        return None, None, str(exc)
    except InvalidDicomError:
        return None, None, "not a DICOM file (no DICM prefix)"
    except PermissionError:
        return None, None, "permission denied"
    except OSError as exc:
        if exc.errno is None:  # pydicom reports a broken structure as a bare OSError
            return None, None, f"unreadable DICOM header: {_reason(exc)}"
        return None, None, f"cannot read: {type(exc).__name__}"
    except MemoryError as exc:
        return None, None, f"cannot read: {type(exc).__name__}"
    except Exception as exc:
        return None, None, f"unreadable DICOM header: {_reason(exc)}"
    try:
        # pydicom converts values when they are first read: a damaged one raises only now.
        record, dataset, problem = _inspect(path, header)
    except Exception as exc:
        return None, None, f"invalid header: {_reason(exc)}"
    if record is not None:
        record = replace(record, size=info.st_size, mtime_ns=info.st_mtime_ns)
    return record, dataset, problem


def read_header_or_fallback(fp: BinaryIO) -> Header:
    """The header of the open file ``fp`` by the scanning reader, or by pydicom's ``dcmread``
    (``stop_before_pixels``) when that reader hands the file over. Raises as ``dcmread`` does."""
    header = read_header(fp)
    if header is not None:
        return header
    fp.seek(0)
    ds = pydicom.dcmread(fp, stop_before_pixels=True)
    offset = fp.tell()
    return Header(ds, offset, fp.read(12), os.fstat(fp.fileno()).st_size)


def _inspect(path: str, header: Header) -> tuple[FileRecord | None, Dataset | None, str | None]:
    """The record of a header that parsed (see :func:`read_record`)."""
    ds = header.dataset
    if (
        header_value(ds, "SOPClassUID", "") == _DICOMDIR_CLASS
        or uid_value(ds.file_meta, "MediaStorageSOPClassUID") == _DICOMDIR_CLASS
    ):
        return None, None, "DICOMDIR index file (not an image)"
    layout, pixel_problem = None, None
    tsuid = uid_value(ds.file_meta, "TransferSyntaxUID")
    extent: tuple[int | None, int] | None
    if is_deflated(tsuid):
        # The parse position is inside the inflated stream, not the file: trust the header.
        extent = (None, header.file_size) if has_element(ds, "Rows") else None
    else:
        extent = pixel_data_extent(header.pixel_head, header.pixel_offset, header.file_size)
    try:
        if extent is not None:
            layout = pixel_layout(ds)
            if not layout.encapsulated and not is_deflated(tsuid):
                _check_native_length(layout, extent[1])
    except Exception as exc:
        layout, pixel_problem = None, f"unusable pixel description: {_reason(exc)}"
    pixel_vr = None
    if extent is not None:
        head = b"" if is_deflated(tsuid) else header.pixel_head
        pixel_vr = pixel_data_vr(head, layout.bits_allocated if layout else 16)
    return _record(path, ds, layout, pixel_problem, extent, pixel_vr), ds, None


def pixel_data_vr(head: bytes, bits_allocated: int) -> str:
    """The VR of Pixel Data as its element (``head``, its first 12 bytes) writes it (OB or
    OW), else what PS3.5 gives data without a written VR: OW above 8 bits, else OB."""
    written = head[4:6]
    if len(head) == 12 and written in (b"OB", b"OW") and head[6:8] == b"\0\0":
        return written.decode()
    return "OW" if bits_allocated > 8 else "OB"


def pixel_data_extent(head: bytes, offset: int, size: int) -> tuple[int, int] | None:
    """``(value offset, length)`` of the Pixel Data element starting at ``offset``, or None.

    ``offset`` is where a ``stop_before_pixels`` parse stopped, ``head`` the (up to) 12 bytes
    of the file there and ``size`` the file's size. The element's own bytes say whether it is
    written with an explicit VR (some files disagree with their transfer syntax).
    Undefined-length (encapsulated) values are measured to the end of the file.
    """
    if offset + 8 > size:
        return None
    explicit_vr = len(head) == 12 and head[4:6] in _PIXEL_VRS and head[6:8] == b"\0\0"
    for order in ("little", "big"):
        group = int.from_bytes(head[:2], order)
        elem = int.from_bytes(head[2:4], order)
        if ((group << 16) | elem) not in _PIXEL_TAGS:
            continue
        if explicit_vr:
            length, start = int.from_bytes(head[8:12], order), offset + 12
        else:
            length, start = int.from_bytes(head[4:8], order), offset + 8
        if length == 0xFFFFFFFF:
            return start, size - start
        return start, min(length, size - start)
    return None


def _check_native_length(layout: PixelLayout, length: int) -> None:
    """Raise ValueError when native Pixel Data cannot hold the frames the header describes
    (a Number of Frames of 2^31 on a two-frame file, a value cut short)."""
    pixels = layout.rows * layout.columns * layout.frame_count
    if layout.bits_allocated == 1:
        expected = (pixels * layout.samples_per_pixel + 7) // 8
    elif layout.photometric == "YBR_FULL_422":
        expected = pixels * 2 * (layout.bits_allocated // 8)
    else:
        expected = pixels * layout.samples_per_pixel * (layout.bits_allocated // 8)
    if length < expected:
        raise ValueError(
            f"the Pixel Data holds {length} bytes, the header describes {expected} "
            f"({layout.frame_count} frame(s) of {layout.rows}x{layout.columns})"
        )


def pixel_layout(ds: Dataset) -> PixelLayout:
    """The pixel description of a header; raises ValueError when essential fields are bad."""
    rows = _int(header_value(ds, "Rows"), None)
    columns = _int(header_value(ds, "Columns"), None)
    bits_allocated = _int(header_value(ds, "BitsAllocated"), None)
    if not rows or not columns or not bits_allocated or rows < 0 or columns < 0:
        raise ValueError("Rows, Columns or BitsAllocated missing or zero")
    frames = _int(header_value(ds, "NumberOfFrames"), 1)
    if frames is None or frames < 1:
        raise ValueError(f"NumberOfFrames is {ds.get('NumberOfFrames')!r}, expected 1 or more")
    spp = _int(header_value(ds, "SamplesPerPixel"), 1) or 1
    photometric = str(
        header_value(ds, "PhotometricInterpretation", "MONOCHROME2") or "MONOCHROME2"
    ).strip()
    bits_stored = _int(header_value(ds, "BitsStored"), bits_allocated) or bits_allocated
    if bits_stored > bits_allocated:
        raise ValueError(f"BitsStored {bits_stored} is more than BitsAllocated {bits_allocated}")
    tsuid = uid_value(ds.file_meta, "TransferSyntaxUID")
    padding = None
    if has_element(ds, "PixelPaddingValue"):
        lo = _int(header_value(ds, "PixelPaddingValue"), None)
        hi = _int(header_value(ds, "PixelPaddingRangeLimit"), lo)
        if lo is not None and hi is not None:
            padding = (min(lo, hi), max(lo, hi))
    spacing = None
    ps = header_value(ds, "PixelSpacing") or header_value(ds, "ImagerPixelSpacing")
    if ps is not None and len(ps) == 2:
        try:
            spacing = (float(ps[0]), float(ps[1]))
        except (TypeError, ValueError):
            spacing = None
    return PixelLayout(
        rows=rows,
        columns=columns,
        frame_count=frames,
        samples_per_pixel=spp,
        bits_allocated=bits_allocated,
        bits_stored=min(bits_stored, bits_allocated),
        pixel_representation=_int(header_value(ds, "PixelRepresentation"), 0) or 0,
        photometric=photometric,
        planar_configuration=_int(header_value(ds, "PlanarConfiguration"), 0) or 0,
        encapsulated=is_encapsulated(tsuid),
        rescale_slope=_float(header_value(ds, "RescaleSlope"), 1.0) or 1.0,
        rescale_intercept=_float(header_value(ds, "RescaleIntercept"), 0.0),
        has_modality_lut=has_element(ds, "ModalityLUTSequence"),
        has_voi_lut=has_element(ds, "VOILUTSequence"),
        default_window=first_window(ds),
        pixel_padding=padding,
        pixel_spacing=spacing,
    )


def first_window(ds: Dataset) -> Window | None:
    """The first Window Center/Width pair of the header, when both are present and usable."""
    center = _first_number(header_value(ds, "WindowCenter"))
    width = _first_number(header_value(ds, "WindowWidth"))
    if center is None or width is None or width <= 0:
        return None
    return Window(center=center, width=width)


def _record(
    path: str,
    ds: Dataset,
    layout: PixelLayout | None,
    pixel_problem: str | None,
    extent: tuple[int | None, int] | None,
    pixel_vr: str | None,
) -> FileRecord:
    fields: dict[str, Any] = {
        "patient_id": _str(ds, "PatientID"),
        "patient_name": _str(ds, "PatientName"),
        "study_date": _str(ds, "StudyDate"),
        "study_description": _str(ds, "StudyDescription"),
        "study_instance_uid": _str(ds, "StudyInstanceUID"),
        "series_instance_uid": _str(ds, "SeriesInstanceUID"),
        "sop_instance_uid": _str(ds, "SOPInstanceUID"),
        "series_number": _int(header_value(ds, "SeriesNumber"), None),
        "series_description": _str(ds, "SeriesDescription"),
        "modality": _str(ds, "Modality"),
        "instance_number": _int(header_value(ds, "InstanceNumber"), None),
        "burned_in_annotation": _burned_in(ds),
    }
    parts = [fields["patient_id"], fields["modality"], fields["study_date"]]
    label = " · ".join(p for p in parts if p) or os.path.basename(path)
    geometry, layout = read_geometry(ds, layout)
    return FileRecord(
        path=path,
        label=label,
        transfer_syntax_uid=uid_value(ds.file_meta, "TransferSyntaxUID"),
        values=tuple(fields[name] for name in FIELD_NAMES),
        layout=layout,
        pixel_problem=pixel_problem,
        pixel_data_length=extent[1] if extent else None,
        pixel_data_offset=extent[0] if extent else None,
        pixel_data_vr=pixel_vr,
        extended_offsets=_extended_offsets(ds),
        geometry=geometry,
        shutter=_shutter(ds) if layout is not None else None,
        layer_source=layer_source(ds),
    )


# Folders at least this large are read by the worker processes too (starting them costs
# ~0.5 s: for fewer files this process alone is done sooner). Files go to them in chunks.
PARALLEL_MIN_FILES = 2000
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
    for path, problem in iter_candidate_paths(paths, recursive):
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            candidates.append((path, problem))
    del seen
    chunks = [candidates[i : i + _CHUNK] for i in range(0, len(candidates), _CHUNK)]
    outcomes: list[list[Outcome] | None] = [None] * len(chunks)
    counts = [0, 0]  # files read, records loaded

    shared = _Shared()

    def done(index: int, chunk_outcomes: list[Outcome]) -> None:
        chunk_outcomes = [(shared.record(r), e) if r else (r, e) for r, e in chunk_outcomes]
        outcomes[index] = chunk_outcomes
        counts[0] += len(chunk_outcomes)
        counts[1] += sum(1 for record, _ in chunk_outcomes if record is not None)
        if progress is not None:
            progress(counts[0], counts[1])

    if len(candidates) >= PARALLEL_MIN_FILES:
        from .jobs import POOL
        from .pool import in_parallel

        work = [(chunk, filters, identifiers) for chunk in chunks]
        in_parallel(POOL, "headers", work, read_chunk, done)
    else:
        for index, chunk in enumerate(chunks):
            done(index, read_chunk(chunk, filters, identifiers))
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
        one = self.one
        values = tuple(
            value if name in _OWN_FIELDS else one(value)
            for name, value in zip(FIELD_NAMES, record.values, strict=True)
        )
        geometry = record.geometry
        if geometry is not None:
            geometry = replace(
                geometry,
                frame_of_reference_uid=one(geometry.frame_of_reference_uid),
                orientation=one(geometry.orientation),
            )
        return replace(
            record,
            label=one(record.label),
            transfer_syntax_uid=one(record.transfer_syntax_uid),
            values=values,
            layout=one(record.layout),
            pixel_data_vr=one(record.pixel_data_vr),
            geometry=geometry,
            identifiers=one(record.identifiers),
        )


def read_chunk(
    candidates: Sequence[tuple[str, str | None]],
    filters: Sequence[Filter],
    identifiers: bool = False,
) -> list[Outcome]:
    """Read, filter and describe each ``(path, problem)``: a record or why there is none.
    With ``identifiers`` (``--mask``), records keep the file's identifiers to scrub text with
    (reading them costs ~20 % of a scan, so only then)."""
    outcomes: list[Outcome] = []
    for path, problem in candidates:
        record = None
        if problem is None:
            record, ds, problem = read_record(path)
            if record is not None and ds is not None:
                unmet = unmet_filter(ds, filters)
                if unmet is not None:
                    outcomes.append((None, DiscoveryEntry(path, "filtered", unmet)))
                    continue
                if identifiers:
                    record = replace(record, identifiers=identifiers_of(ds))
        entry = DiscoveryEntry(path, "skipped", problem) if problem is not None else None
        outcomes.append((record, entry))
    return outcomes


def identifiers_of(ds: Dataset) -> tuple[tuple[str, str], ...]:
    """``(keyword, value)`` of the header's identifiers that ``--mask`` scrubs from text."""
    return tuple((k, value) for k in SCRUBBED_KEYWORDS if (value := _str(ds, k)))


def unmet_filter(ds: Dataset, filters: Sequence[Filter]) -> str | None:
    """Why the header ``ds`` is filtered out (the first filter it does not meet), or None."""
    unmet = next((f for f in filters if not f.matches(ds)), None)
    return None if unmet is None else f"{unmet.field} does not contain {unmet.value!r}"


def _extended_offsets(ds: Dataset) -> tuple[bytes, bytes] | None:
    if not has_element(ds, "ExtendedOffsetTable"):
        return None
    offsets, lengths = ds.get("ExtendedOffsetTable"), ds.get("ExtendedOffsetTableLengths")
    if isinstance(offsets, bytes) and isinstance(lengths, bytes):
        return offsets, lengths
    return None


def _shutter(ds: Dataset) -> Shutter | None:
    """The display shutter; a value pydicom cannot convert leaves the image unshuttered."""
    try:
        return read_shutter(ds)
    except Exception:
        return None


def _burned_in(ds: Dataset) -> str:
    """Burned In Annotation (0028,0301) as "YES" or "NO" (any case in the file), else "":
    the explorer's badge and the ``burned_in`` filter read this one value."""
    value = _str(ds, "BurnedInAnnotation").upper()
    return value if value in ("YES", "NO") else ""


def _str(ds: Dataset, keyword: str) -> str:
    value = header_value(ds, keyword)
    if value is None:
        return ""
    return text_of(value).strip()


def _int(value: Any, default: int | None) -> int | None:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError, OverflowError):
            return None


def _float(value: Any, default: float) -> float:
    try:
        return float(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def _first_number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        if len(value) == 0:
            return None
        value = value[0]
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]
