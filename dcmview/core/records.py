"""A file's record from its header's values: its pixel layout, summary fields, geometry and
display shutter, and where its Pixel Data lies.

The values come from either header reader (:class:`~.plain_header.HeaderValues`): the plain
one of the scan, or pydicom's data set; the record is the same.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .filters import text_of
from .geometry import read_geometry
from .masking import SCRUBBED_KEYWORDS
from .model import FIELD_NAMES, FileRecord, PixelLayout, Window
from .plain_header import HeaderValues
from .transfer_syntaxes import is_deflated, is_encapsulated

if TYPE_CHECKING:
    from .shutters import Shutter

_DICOMDIR_CLASS = "1.2.840.10008.1.3.10"
_PIXEL_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)
_PIXEL_VRS = (b"OB", b"OW", b"OF", b"OD", b"UN")


def _inspect_values(
    path: str, values: HeaderValues, pixel_offset: int, pixel_head: bytes, file_size: int
) -> tuple[FileRecord | None, HeaderValues | None, str | None]:
    """The record of a header: its values, where its Pixel Data starts, the (up to) 12 bytes
    there and the file's size."""
    if (
        values.get("SOPClassUID", "") == _DICOMDIR_CLASS
        or values.meta_uid("MediaStorageSOPClassUID") == _DICOMDIR_CLASS
    ):
        return None, None, "DICOMDIR index file (not an image)"
    layout, pixel_problem = None, None
    tsuid = values.syntax
    extent: tuple[int | None, int] | None
    if is_deflated(tsuid):
        # The parse position is inside the inflated stream, not the file: trust the header.
        extent = (None, file_size) if values.has("Rows") else None
    else:
        extent = pixel_data_extent(pixel_head, pixel_offset, file_size)
    try:
        if extent is not None:
            layout = pixel_layout(values)
            if not layout.encapsulated and not is_deflated(tsuid):
                _check_native_length(layout, extent[1])
    except Exception as exc:
        layout, pixel_problem = None, f"unusable pixel description: {_reason(exc)}"
    pixel_vr = None
    if extent is not None:
        head = b"" if is_deflated(tsuid) else pixel_head
        pixel_vr = pixel_data_vr(head, layout.bits_allocated if layout else 16)
    return _record(path, values, layout, pixel_problem, extent, pixel_vr), values, None


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


def pixel_layout(values: HeaderValues) -> PixelLayout:
    """The pixel description of a header; raises ValueError when essential fields are bad."""
    rows = _int(values.get("Rows"), None)
    columns = _int(values.get("Columns"), None)
    bits_allocated = _int(values.get("BitsAllocated"), None)
    if not rows or not columns or not bits_allocated or rows < 0 or columns < 0:
        raise ValueError("Rows, Columns or BitsAllocated missing or zero")
    frames = _int(values.get("NumberOfFrames"), 1)
    if frames is None or frames < 1:
        raise ValueError(f"NumberOfFrames is {values.get('NumberOfFrames')!r}, expected 1 or more")
    spp = _int(values.get("SamplesPerPixel"), 1) or 1
    photometric = str(
        values.get("PhotometricInterpretation", "MONOCHROME2") or "MONOCHROME2"
    ).strip()
    bits_stored = _int(values.get("BitsStored"), bits_allocated) or bits_allocated
    if bits_stored > bits_allocated:
        raise ValueError(f"BitsStored {bits_stored} is more than BitsAllocated {bits_allocated}")
    tsuid = values.syntax
    padding = None
    if values.has("PixelPaddingValue"):
        lo = _int(values.get("PixelPaddingValue"), None)
        hi = _int(values.get("PixelPaddingRangeLimit"), lo)
        if lo is not None and hi is not None:
            padding = (min(lo, hi), max(lo, hi))
    spacing = None
    ps = values.get("PixelSpacing") or values.get("ImagerPixelSpacing")
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
        pixel_representation=_int(values.get("PixelRepresentation"), 0) or 0,
        photometric=photometric,
        planar_configuration=_int(values.get("PlanarConfiguration"), 0) or 0,
        encapsulated=is_encapsulated(tsuid),
        rescale_slope=_float(values.get("RescaleSlope"), 1.0) or 1.0,
        rescale_intercept=_float(values.get("RescaleIntercept"), 0.0),
        has_modality_lut=values.has("ModalityLUTSequence"),
        has_voi_lut=values.has("VOILUTSequence"),
        default_window=first_window(values),
        pixel_padding=padding,
        pixel_spacing=spacing,
    )


def first_window(values: HeaderValues) -> Window | None:
    """The first Window Center/Width pair of the header, when both are present and usable."""
    center = _first_number(values.get("WindowCenter"))
    width = _first_number(values.get("WindowWidth"))
    if center is None or width is None or width <= 0:
        return None
    return Window(center=center, width=width)


def _record(
    path: str,
    values: HeaderValues,
    layout: PixelLayout | None,
    pixel_problem: str | None,
    extent: tuple[int | None, int] | None,
    pixel_vr: str | None,
) -> FileRecord:
    fields: dict[str, Any] = {
        "patient_id": _str(values, "PatientID"),
        "patient_name": _str(values, "PatientName"),
        "study_date": _str(values, "StudyDate"),
        "study_description": _str(values, "StudyDescription"),
        "study_instance_uid": _str(values, "StudyInstanceUID"),
        "series_instance_uid": _str(values, "SeriesInstanceUID"),
        "sop_instance_uid": _str(values, "SOPInstanceUID"),
        "series_number": _int(values.get("SeriesNumber"), None),
        "series_description": _str(values, "SeriesDescription"),
        "modality": _str(values, "Modality"),
        "instance_number": _int(values.get("InstanceNumber"), None),
        "burned_in_annotation": _burned_in(values),
    }
    parts = [fields["patient_id"], fields["modality"], fields["study_date"]]
    label = " · ".join(p for p in parts if p) or os.path.basename(path)
    geometry, layout = read_geometry(values, layout)
    return FileRecord(
        path=path,
        label=label,
        transfer_syntax_uid=values.syntax,
        values=tuple(fields[name] for name in FIELD_NAMES),
        layout=layout,
        pixel_problem=pixel_problem,
        pixel_data_length=extent[1] if extent else None,
        pixel_data_offset=extent[0] if extent else None,
        pixel_data_vr=pixel_vr,
        extended_offsets=_extended_offsets(values),
        geometry=geometry,
        shutter=_shutter(values) if layout is not None else None,
        layer_source=values.layer_source(),
    )


def identifiers_of(values: HeaderValues) -> tuple[tuple[str, str], ...]:
    """``(keyword, value)`` of the header's identifiers that ``--mask`` scrubs from text."""
    return tuple((k, value) for k in SCRUBBED_KEYWORDS if (value := _str(values, k)))


def _extended_offsets(values: HeaderValues) -> tuple[bytes, bytes] | None:
    if not values.has("ExtendedOffsetTable"):
        return None
    ds = values.dataset()
    offsets, lengths = ds.get("ExtendedOffsetTable"), ds.get("ExtendedOffsetTableLengths")
    if isinstance(offsets, bytes) and isinstance(lengths, bytes):
        return offsets, lengths
    return None


def _shutter(values: HeaderValues) -> Shutter | None:
    """The display shutter; a value pydicom cannot convert leaves the image unshuttered."""
    if not any(values.has(k) for k in _SHUTTER_KEYWORDS):
        return None  # (most files: read_shutter would say so, without pydicom)
    from .shutters import read_shutter

    try:
        return read_shutter(values.dataset())
    except Exception:
        return None


# read_shutter finds a shutter only where one of these is.
_SHUTTER_KEYWORDS = (
    "ShutterShape",
    "SharedFunctionalGroupsSequence",
    "PerFrameFunctionalGroupsSequence",
)


def _burned_in(values: HeaderValues) -> str:
    """Burned In Annotation (0028,0301) as "YES" or "NO" (any case in the file), else "":
    the explorer's badge and the ``burned_in`` filter read this one value."""
    value = _str(values, "BurnedInAnnotation").upper()
    return value if value in ("YES", "NO") else ""


def _str(values: HeaderValues, keyword: str) -> str:
    return text_value(values.get(keyword))


def text_value(value: Any) -> str:
    """A summary field's text of a header value ("" for None)."""
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
