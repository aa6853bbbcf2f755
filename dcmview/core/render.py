"""A decoded frame to what leaves the server: raw little-endian samples, or a windowed PNG.

Both come with a typed description (:class:`~.model.FrameDescription`,
:class:`~.model.AppliedWindow`); the router turns those into the headers of SPEC §3. Functions
here are pure: the header dataset (for LUTs and palettes) is passed in by the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from .errors import PixelDecodeFailed
from .geometry import frame_layout
from .model import (
    AppliedWindow,
    DisplayEntry,
    FileRecord,
    FrameDescription,
    PixelLayout,
    RawEntry,
    WindowRequest,
)
from .png import encode_png
from .shutters import apply_shutter, display_colour, image_mask
from .windowing import (
    Modality,
    VoiLut,
    WindowChoice,
    colour_to_uint8,
    full_dynamic_window,
    percentile_window,
    to_display,
)

if TYPE_CHECKING:
    from pydicom.dataset import Dataset


def raw_frame(record: FileRecord, arr: np.ndarray, frame: int) -> RawEntry:
    """Decoded samples of ``frame``, little-endian and interleaved, and what they are (an
    enhanced multi-frame file's per-frame rescale and window included)."""
    layout = frame_layout(record, frame)
    data = np.ascontiguousarray(arr.astype(arr.dtype.newbyteorder("<"), copy=False))
    spp = data.shape[2] if data.ndim == 3 else 1
    bits = data.dtype.itemsize * 8
    description = FrameDescription(
        rows=data.shape[0],
        columns=data.shape[1],
        bits_allocated=bits,
        bits_stored=min(layout.bits_stored, bits),
        signed=data.dtype.kind == "i",
        samples_per_pixel=spp,
        photometric="RGB" if spp == 3 else layout.photometric,
        rescale_slope=layout.rescale_slope,
        rescale_intercept=layout.rescale_intercept,
        default_window=layout.default_window,
    )
    return _body_of(data), description


def _body_of(data: np.ndarray) -> bytes:
    """The bytes of the C-contiguous ``data``: the bytes object it was read into when it is a
    whole, unchanged view of one (an uncompressed frame, see frames._native_frame), else a
    copy. A 3000x2500 16-bit frame's copy cost ~40 ms on a cold server (a page fault per
    4 KiB)."""
    owner = data.base
    while isinstance(owner, np.ndarray):
        owner = owner.base
    if (
        isinstance(owner, bytes)
        and len(owner) == data.nbytes
        and np.frombuffer(owner, dtype=np.uint8).ctypes.data == data.ctypes.data
    ):
        return owner
    return data.tobytes()


def display_frame(
    record: FileRecord,
    arr: np.ndarray,
    header: Callable[[], Dataset],
    request: WindowRequest,
    frame: int,
    reduced: int = 0,
    redactions: Sequence[tuple[int, int, int, int]] = (),
) -> DisplayEntry:
    """``frame`` as a PNG a browser can show (8-bit grey or RGB) and how it was windowed; the
    display shutter blanks what it covers unless the request looks under it. ``reduced``: the
    samples ``arr`` are the frame at 1/2^reduced of each side. ``redactions``: ``(ymin, xmin,
    ymax, xmax)`` boxes (in the full frame's pixels) painted black over everything."""
    layout = frame_layout(record, frame)
    applied = AppliedWindow()
    if arr.ndim == 3:
        image = colour_to_uint8(arr, layout.bits_stored)
    elif layout.photometric == "PALETTE COLOR":
        image = _palette_to_rgb(arr, header())
    else:
        modality = modality_map(layout, header)
        choice = choose_window(layout, arr, modality, request, header)
        image = to_display(arr, choice, layout.photometric == "MONOCHROME1", modality)
        applied = AppliedWindow(choice.applied, choice.window)
    if reduced:
        applied = AppliedWindow(applied.applied, applied.window, reduced)
    shutter = record.shutter
    if shutter is not None and request.shutter:
        hidden = image_mask(shutter, image.shape[0], image.shape[1], header, 2**reduced)
        image = apply_shutter(image, hidden, display_colour(shutter, image.ndim == 3))
    if redactions:
        image = np.array(image, copy=True)  # it may share memory with a cached frame
        scale = 2**reduced  # a box covers every reduced pixel it touches
        for ymin, xmin, ymax, xmax in redactions:
            image[ymin // scale : -(-ymax // scale), xmin // scale : -(-xmax // scale)] = 0
    return encode_png(np.ascontiguousarray(image)), applied


def modality_map(layout: PixelLayout, header: Callable[[], Dataset]) -> Modality:
    """Stored values to modality values: the Modality LUT if present, else rescale."""
    if layout.has_modality_lut:
        item = _first_item(header(), "ModalityLUTSequence")
        return Modality(lut=read_lut(item))
    return Modality(layout.rescale_slope, layout.rescale_intercept)


def choose_window(
    layout: PixelLayout,
    stored: np.ndarray,
    modality: Modality,
    request: WindowRequest,
    header: Callable[[], Dataset],
) -> WindowChoice:
    """SPEC §4 precedence: full_dynamic > explicit wc/ww > file window > VOI LUT > percentiles."""
    if request.mode == "full_dynamic":
        return WindowChoice("full_dynamic", full_dynamic_window(stored, modality))
    if request.window is not None:
        return WindowChoice("linear", request.window)
    if layout.default_window is not None:
        return WindowChoice("linear", layout.default_window)
    lut = _usable_voi_lut(header()) if layout.has_voi_lut else None
    if lut is not None:
        return WindowChoice("voi_lut", None, lut)
    window = percentile_window(
        lambda: modality(stored), layout.pixel_padding, stored, rescale=modality.linear
    )
    return WindowChoice("linear", window)


def read_lut(item: Dataset) -> VoiLut:
    """A Modality or VOI LUT item as a :class:`VoiLut` (descriptor: entries, first value, bits)."""
    try:
        entries, first, bits = (int(v) for v in item.LUTDescriptor)
        data = item.LUTData
    except (AttributeError, TypeError, ValueError) as exc:
        raise PixelDecodeFailed("the LUT descriptor or data is missing or malformed") from exc
    if data is None:  # an empty LUT Data element
        raise PixelDecodeFailed("the LUT has no data")
    if entries == 0:
        entries = 65536
    if isinstance(data, (bytes, bytearray)):
        dtype = np.uint8 if bits <= 8 and len(data) == entries else np.dtype("<u2")
        table = np.frombuffer(bytes(data), dtype=dtype)
    else:
        table = np.asarray(list(data) if not isinstance(data, int) else [data])
    if table.size == 0:
        raise PixelDecodeFailed("the LUT has no data")
    if first >= 32768 and first > entries:
        first -= 65536  # first-mapped value stored unsigned but meant signed
    return VoiLut(first_mapped=first, bits=bits, data=table[:entries].astype(np.float32))


def _first_item(ds: Dataset, keyword: str) -> Dataset:
    sequence = ds.get(keyword)
    if not sequence:
        raise PixelDecodeFailed(f"the {keyword} has no item")
    return sequence[0]


def _usable_voi_lut(ds: Dataset) -> VoiLut | None:
    """The first VOI LUT, or None when it is empty or malformed: the next window of SPEC §4's
    precedence (the percentile window) then shows the image rather than an error."""
    try:
        return read_lut(_first_item(ds, "VOILUTSequence"))
    except PixelDecodeFailed:
        return None


def _palette_to_rgb(arr: np.ndarray, ds: Dataset) -> np.ndarray:
    from pydicom.pixels import apply_color_lut

    try:
        rgb = apply_color_lut(arr, ds)
    except Exception as exc:
        raise PixelDecodeFailed(f"the palette could not be applied: {exc}") from exc
    if rgb.dtype != np.uint8:
        rgb = (rgb.astype(np.uint32) >> 8).astype(np.uint8)
    return np.ascontiguousarray(rgb)
