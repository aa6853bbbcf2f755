"""One frame at a time: decode exactly the frame asked for, after checking it is safe to.

Only the bytes of frame ``i`` are read: uncompressed data at its offset, compressed data from its
fragments (:mod:`.encapsulated`), so a 120-frame file is never decoded whole to show one frame.
"""

from __future__ import annotations

import io
import threading
import warnings
from dataclasses import replace
from typing import BinaryIO

import numpy as np

from . import encapsulated
from .budget import check_raw
from .codestream import declared_shape
from .errors import (
    DcmviewError,
    FrameOutOfRange,
    FrameTooLarge,
    NoPixelData,
    PixelDecodeFailed,
    UnsupportedTransferSyntax,
)
from .fileio import open_record
from .model import FileRecord
from .transfer_syntaxes import (
    GIL_HOLDING_DECODERS,
    decoder_of,
    is_deflated,
    is_encapsulated,
    is_supported,
    native_byte_order,
    syntax_name,
)

# Largest decoded frame we accept (bytes): far above any real modality (a 4096² RGB 16-bit frame
# is 96 MiB) and low enough that a forged header cannot make us allocate gigabytes.
MAX_FRAME_BYTES = 512 * 1024 * 1024
# pydicom would pick pylibjpeg-libjpeg for JPEG-LS; CharLS (pyjpegls) is ~4x faster.
_PLUGIN = {"pyjpegls": "pyjpegls"}
# GIL-holding decoders never run in parallel in threads anyway; four at once starved every other
# thread (the event loop answering /api/health waited seconds). One at a time, the others wait
# here with the GIL released.
_GIL_HOLDING_DECODE = threading.Lock()
_PLAIN_PHOTOMETRICS = frozenset({"MONOCHROME1", "MONOCHROME2", "RGB", "PALETTE COLOR"})


def check_frame(record: FileRecord, frame: int) -> None:
    """Raise the API error that applies before decoding ``frame`` of ``record``, if any."""
    layout = record.layout
    if record.pixel_problem is not None:
        raise PixelDecodeFailed(f"frame {frame} cannot be decoded: {record.pixel_problem}")
    if layout is None:
        raise NoPixelData("this file has no pixel data")
    if not 0 <= frame < layout.frame_count:
        raise FrameOutOfRange(
            f"frame {frame} is out of range: the file has {layout.frame_count} frame(s), "
            f"numbered from 0"
        )
    if not record.syntax_from_frames and not is_supported(record.transfer_syntax_uid):
        raise UnsupportedTransferSyntax(
            f"unsupported transfer syntax: {syntax_name(record.transfer_syntax_uid)} "
            f"({record.transfer_syntax_uid}); no installed decoder handles it"
        )
    if layout.frame_bytes > MAX_FRAME_BYTES:
        raise FrameTooLarge(
            f"the header declares a {layout.rows}x{layout.columns} frame of "
            f"{layout.frame_bytes} bytes, above the {MAX_FRAME_BYTES}-byte decode limit"
        )
    from .decoding import wanted

    check_raw(record, in_worker=wanted(record))


def decode_frame(record: FileRecord, frame: int) -> np.ndarray:
    """Decode one frame to stored values in native byte order.

    Grey frames come back as (rows, columns); colour as (rows, columns, 3) interleaved RGB
    (YBR is converted, planar data interleaved, 4:2:2 expanded). PALETTE COLOR stays as indices.
    """
    check_frame(record, frame)
    if record.remote is not None and record.remote.kind == "dicomweb":
        return _decode_dicomweb(record, frame)
    with open_record(record) as fp:
        return _decode_from(fp, record, frame)


def _decode_dicomweb(record: FileRecord, frame: int) -> np.ndarray:
    """A DICOMweb frame: its bytes come in the transfer syntax the server stores (told by its
    answer), and are decoded as that frame of a file in that syntax would be."""
    from .sources import dicomweb_frame

    data, tsuid = dicomweb_frame(record, frame)
    layout = record.layout
    assert layout is not None
    if not is_supported(tsuid):
        raise UnsupportedTransferSyntax(
            f"unsupported transfer syntax: {syntax_name(tsuid)} ({tsuid}); no installed "
            "decoder handles it"
        )
    one = replace(
        record,
        transfer_syntax_uid=tsuid,
        pixel_data_offset=0,
        layout=replace(layout, encapsulated=is_encapsulated(tsuid), frame_count=1),
    )
    # The answer holds this frame only: to the decoders, frame 0 of a one-frame file.
    return _decode_from(io.BytesIO(data), one, 0, encoded=data if is_encapsulated(tsuid) else None)


def _decode_from(
    fp: BinaryIO, record: FileRecord, frame: int, encoded: bytes | None = None
) -> np.ndarray:
    """:func:`decode_frame` from the open file ``fp`` (or from the frame's own ``encoded``
    bytes when they are in hand)."""
    layout = record.layout
    assert layout is not None
    if encoded is not None:
        if decoder_of(record.transfer_syntax_uid) != "pylibjpeg-rle":
            _check_declared_shape(record, frame, encoded)
    elif layout.encapsulated and record.pixel_data_offset is not None:
        encoded = _encoded_frame(fp, record, frame)
        # RLE decoders size their output from Rows and Columns, not from the encoded data.
        if decoder_of(record.transfer_syntax_uid) != "pylibjpeg-rle":
            _check_declared_shape(record, frame, encoded)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if decoder_of(record.transfer_syntax_uid) in GIL_HOLDING_DECODERS:
                with _GIL_HOLDING_DECODE:
                    arr = _decode(fp, record, frame, encoded)
            else:
                arr = _decode(fp, record, frame, encoded)
    except DcmviewError:
        raise
    except (MemoryError, RecursionError) as exc:
        raise PixelDecodeFailed(
            f"frame {frame} could not be decoded: {type(exc).__name__}"
        ) from exc
    except Exception as exc:
        raise PixelDecodeFailed(f"frame {frame} could not be decoded: {_short(exc)}") from exc
    except BaseException as exc:
        # A Rust decoder (pylibjpeg-rle) that panics on damaged data raises pyo3's
        # PanicException, which derives from BaseException, not Exception.
        if type(exc).__name__ != "PanicException":
            raise
        raise PixelDecodeFailed(
            f"frame {frame} could not be decoded: the decoder gave up ({_short(exc)})"
        ) from exc
    expected = (layout.rows, layout.columns)
    if arr.shape[:2] != expected:
        raise PixelDecodeFailed(
            f"frame {frame} decoded to shape {arr.shape}, expected {expected} from the header"
        )
    if arr.dtype.byteorder == ">" or (arr.dtype.byteorder == "=" and not _little_endian()):
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    return arr


def _encoded_frame(fp: BinaryIO, record: FileRecord, frame: int) -> bytes:
    try:
        return encapsulated.frame_bytes(record, frame, fp)
    except DcmviewError:
        raise  # a remote read that failed (502)
    except Exception as exc:
        raise PixelDecodeFailed(f"frame {frame} cannot be found: {_short(exc)}") from exc


def _check_declared_shape(record: FileRecord, frame: int, data: bytes) -> None:
    """Refuse a compressed frame whose own header declares more pixels than the DICOM header.

    Decoders allocate what the codestream declares, so this is the decompression-bomb check
    that :func:`check_frame` cannot make from the DICOM header alone.
    """
    layout = record.layout
    assert layout is not None
    shape = declared_shape(data)
    if shape is None:
        raise PixelDecodeFailed(
            f"frame {frame} has no readable JPEG or JPEG 2000 header: the data is damaged"
        )
    rows, columns = shape
    if rows > layout.rows or columns > layout.columns:
        raise PixelDecodeFailed(
            f"frame {frame} declares {rows}x{columns} pixels in its compressed data, more than "
            f"the {layout.rows}x{layout.columns} of the header; it is not decoded"
        )


def _decode(fp: BinaryIO, record: FileRecord, frame: int, encoded: bytes | None) -> np.ndarray:
    """Uncompressed frames are read straight from their offset, compressed ones decoded from
    their own bytes (``encoded``). Files whose Pixel Data has no known offset (deflated data
    inside one zlib stream) are read whole by pydicom, and still only ``frame`` is decoded."""
    plugin = _PLUGIN.get(decoder_of(record.transfer_syntax_uid) or "", "")
    if encoded is not None:
        layout = record.layout
        if (
            decoder_of(record.transfer_syntax_uid) == "pylibjpeg-rle"
            and layout is not None
            and layout.samples_per_pixel == 1
            and layout.bits_allocated > layout.bits_stored
        ):
            # pydicom clears the unused high bits of every decoded frame with two shifts
            # (~0.5 ms of a ~1.7 ms 512² RLE frame); they are almost always clear already.
            # The same shifts here, only when a value has bits above Bits Stored.
            arr = encapsulated.decode(record, encoded, plugin, fp, correct_unused_bits=False)
            if not _within_bits(arr, layout.bits_stored):
                shift = layout.bits_allocated - layout.bits_stored
                arr = np.require(arr, requirements="W")
                np.left_shift(arr, shift, out=arr)
                np.right_shift(arr, shift, out=arr)
            return arr
        return encapsulated.decode(record, encoded, plugin, fp)
    native = _native_frame(fp, record, frame)
    if native is not None:
        return native
    import pydicom  # only here: uncompressed frames at their offset need none of it
    from pydicom.pixels import pixel_array

    if is_deflated(record.transfer_syntax_uid):
        fp.seek(0)
        return pixel_array(pydicom.dcmread(fp), index=frame, decoding_plugin=plugin)
    try:
        fp.seek(0)
        return pixel_array(fp, index=frame, decoding_plugin=plugin)
    except (MemoryError, RecursionError):
        raise
    except Exception as first:
        # Some files pydicom reads only when given the whole data set; if that fails too, the
        # first error is the one that says what is wrong with the file.
        try:
            fp.seek(0)
            return pixel_array(pydicom.dcmread(fp), index=frame, decoding_plugin=plugin)
        except Exception:
            raise first from None


def _native_frame(fp: BinaryIO, record: FileRecord, frame: int) -> np.ndarray | None:
    """An uncompressed frame read at its offset, with pydicom's rules for unused high bits
    (masked when unsigned, sign-extended when signed); None when pydicom should do it (bit
    packed or YBR data, a file shorter than the header says)."""
    layout = record.layout
    offset = record.pixel_data_offset
    if (
        layout is None
        or offset is None
        or layout.encapsulated
        or native_byte_order(record.transfer_syntax_uid) is None
        or layout.bits_allocated not in (8, 16, 32)
        or layout.photometric not in _PLAIN_PHOTOMETRICS
        or layout.samples_per_pixel not in (1, 3)
    ):
        return None
    kind = "i" if layout.pixel_representation == 1 else "u"
    order = native_byte_order(record.transfer_syntax_uid)
    if order == ">" and layout.bits_allocated == 8:
        return None  # big-endian 8-bit data may sit in swapped 16-bit words (VR OW)
    dtype = np.dtype(f"{order}{kind}{layout.bits_allocated // 8}")
    count = layout.rows * layout.columns * layout.samples_per_pixel
    size = count * dtype.itemsize
    # One read straight into the bytes that /raw sends (render.raw_frame keeps them): a fresh
    # array, then its copy by tobytes(), each cost a page fault per 4 KiB on a cold server.
    fp.seek(offset + frame * size)
    data = fp.read(size)
    if len(data) != size:
        return None
    flat = np.frombuffer(data, dtype=dtype)
    if order == ">":
        flat = flat.astype(dtype.newbyteorder("<"))
    unused = layout.bits_allocated - layout.bits_stored
    if unused > 0 and not _within_bits(flat, layout.bits_stored):
        flat = flat.copy() if order == "<" else flat
        if kind == "u":
            flat &= (1 << layout.bits_stored) - 1
        else:
            flat <<= unused
            flat >>= unused
    if layout.samples_per_pixel == 1:
        return flat.reshape(layout.rows, layout.columns)
    if layout.planar_configuration == 1:
        planes = flat.reshape(3, layout.rows, layout.columns)
        return np.ascontiguousarray(planes.transpose(1, 2, 0))
    return flat.reshape(layout.rows, layout.columns, 3)


def _within_bits(flat: np.ndarray, bits: int) -> bool:
    """True when every value already fits in ``bits`` (unsigned, or signed two's complement):
    masking or sign-extending would change nothing, so the read-only samples can stay as read.
    Two reductions read the frame; masking wrote a copy of it."""
    if flat.size == 0:
        return True
    if bits < 1:
        return False
    if flat.dtype.kind == "u":
        return int(flat.max()) < (1 << bits)
    half = 1 << (bits - 1)
    return -half <= int(flat.min()) and int(flat.max()) < half


def _little_endian() -> bool:
    return bool(np.little_endian)


def _short(exc: BaseException) -> str:
    """One line of an exception's text without file-system paths (they leak host layout)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    words = [w for w in text.split() if not (w.startswith("/") or w.startswith("'/"))]
    return " ".join(words)[:200]
