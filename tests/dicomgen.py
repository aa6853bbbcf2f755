"""Real DICOM files for the test suite, written with pydicom.

Every writer takes a target (a file path for :func:`write_image`, a folder for the
named generators), writes a complete Part 10 file (preamble, ``DICM``, file meta) and
returns what a test needs to check the reader: a :class:`Written` with the path and the
pixel array pydicom is expected to return.

Pixel content is deterministic (seeded RNG); UIDs are fresh per file unless given, so
a folder of generated files never holds two instances with the same SOP Instance UID.
The identifying attributes are keyword arguments of every writer::

    patient_id, patient_name, study_uid, series_uid, sop_uid, sop_class_uid, modality,
    study_date, series_number, instance_number, study_description, series_description

``TRANSFER_SYNTAX_CASES`` lists one or more fixtures per transfer syntax that can be
encoded here, for tests parametrised over every encoding.
"""

from __future__ import annotations

import importlib.util
import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pydicom
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.pixels import convert_color_space
from pydicom.pixels.encoders.base import get_encoder
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import (
    HTJ2K,
    JPEG2000,
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    HTJ2KLossless,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
    generate_uid,
)

from dcmview.demo import write_part10

PathLike = str | os.PathLike[str]

NATIVE_SYNTAXES = (
    ImplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
)
LOSSY_SYNTAXES = (JPEGBaseline8Bit, JPEGExtended12Bit, JPEGLSNearLossless, JPEG2000, HTJ2K)
COLOUR_PHOTOMETRICS = ("RGB", "YBR_FULL", "YBR_FULL_422")
HAS_IMAGECODECS = importlib.util.find_spec("imagecodecs") is not None

_SOP_CLASSES = {
    "CT": "1.2.840.10008.5.1.4.1.1.2",
    "MR": "1.2.840.10008.5.1.4.1.1.4",
    "MG": "1.2.840.10008.5.1.4.1.1.1.2",
    "XA": "1.2.840.10008.5.1.4.1.1.12.1",
    "US": "1.2.840.10008.5.1.4.1.1.6.1",
    "SR": "1.2.840.10008.5.1.4.1.1.88.11",
}
_SOP_US_MULTIFRAME = "1.2.840.10008.5.1.4.1.1.3.1"
_SOP_SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
_SOP_ENHANCED_CT = "1.2.840.10008.5.1.4.1.1.2.1"

_META_DEFAULTS: dict[str, Any] = {
    "patient_id": "DCMGEN-001",
    "patient_name": "Generated^Patient",
    "study_uid": None,
    "series_uid": None,
    "sop_uid": None,
    "sop_class_uid": None,
    "modality": "OT",
    "study_date": "20240102",
    "series_number": 1,
    "instance_number": 1,
    "study_description": "dcmview generated study",
    "series_description": "dcmview generated series",
}


class Written(NamedTuple):
    """A generated file and the pixel array pydicom should read back (None: no pixels)."""

    path: Path
    pixels: np.ndarray | None


# ---------------------------------------------------------------- pixel content


def phantom(
    rows: int,
    columns: int,
    *,
    frames: int | None = None,
    dtype: Any = np.uint16,
    bits_stored: int | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Return a smooth grey phantom (ellipses, gradient, mild noise) filling most of the
    range of `bits_stored` bits of `dtype`; shape ``(rows, columns)`` or
    ``(frames, rows, columns)`` with the bright blob moving from frame to frame."""
    dt = np.dtype(dtype)
    bits = bits_stored or dt.itemsize * 8
    if dt.kind == "i":
        lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    else:
        lo, hi = 0, 2**bits - 1
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[-1 : 1 : rows * 1j, -1 : 1 : columns * 1j]
    count = frames or 1
    out = np.empty((count, rows, columns), dtype=dt)
    for t in range(count):
        cx, cy = 0.3 * np.cos(t * 0.7), 0.3 * np.sin(t * 0.7)
        body = ((x / 0.85) ** 2 + (y / 0.7) ** 2 < 1) * 0.35
        blob = 0.45 * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 0.05)
        level = 0.05 + 0.1 * (x + 1) + body + blob + rng.normal(0, 0.01, (rows, columns))
        out[t] = np.clip(lo + level * 0.9 * (hi - lo), lo, hi).astype(dt)
    return out if frames is not None else out[0]


def colour_phantom(
    rows: int, columns: int, *, frames: int | None = None, seed: int = 0
) -> np.ndarray:
    """Return smooth uint8 RGB content, ``(rows, columns, 3)`` or ``(frames, rows, columns, 3)``."""
    grey = phantom(rows, columns, frames=frames or 1, dtype=np.uint8, seed=seed).astype(float)
    ramp = np.linspace(0, 255, columns)[None, None, :]
    rgb = np.stack([grey, np.broadcast_to(ramp, grey.shape), 255 - grey * 0.8], axis=-1)
    rgb = rgb.astype(np.uint8)
    return rgb if frames is not None else rgb[0]


# ---------------------------------------------------------------- dataset assembly


def _base_dataset(meta: dict[str, Any], *, frames: int = 1) -> Dataset:
    unknown = set(meta) - set(_META_DEFAULTS)
    if unknown:
        raise TypeError(f"unknown metadata keyword(s): {sorted(unknown)}")
    m = {**_META_DEFAULTS, **meta}
    modality = m["modality"]
    sop_class = m["sop_class_uid"] or _SOP_CLASSES.get(modality, _SOP_SECONDARY_CAPTURE)
    if modality == "US" and frames > 1 and not m["sop_class_uid"]:
        sop_class = _SOP_US_MULTIFRAME
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = m["sop_uid"] or generate_uid()
    ds.StudyDate = m["study_date"]
    ds.SeriesDate = m["study_date"]
    ds.StudyTime = "101500"
    ds.AccessionNumber = ""
    ds.Modality = modality
    ds.Manufacturer = "dcmview-tests"
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = m["study_description"]
    ds.SeriesDescription = m["series_description"]
    ds.PatientName = m["patient_name"]
    ds.PatientID = m["patient_id"]
    ds.PatientBirthDate = ""
    ds.PatientSex = "O"
    ds.StudyInstanceUID = m["study_uid"] or generate_uid()
    ds.SeriesInstanceUID = m["series_uid"] or generate_uid()
    ds.StudyID = "1"
    ds.SeriesNumber = m["series_number"]
    ds.InstanceNumber = m["instance_number"]
    return ds


def _save(ds: Dataset, path: PathLike, transfer_syntax: str) -> Path:
    target = Path(path)
    write_part10(ds, target, transfer_syntax)
    return target


def _lut_item(first_mapped: int, table: np.ndarray, *, signed_input: bool) -> Dataset:
    item = Dataset()
    entries = len(table)
    bits = 8 if table.dtype.itemsize == 1 else 16
    item.add_new(
        "LUTDescriptor", "SS" if signed_input else "US", [entries % 65536, first_mapped, bits]
    )
    item.add_new("LUTData", "OW", table.astype("<u2").tobytes())
    return item


def _pixel_module(ds: Dataset, arr: np.ndarray, photometric: str, bits_stored: int | None) -> None:
    colour = photometric in COLOUR_PHOTOMETRICS
    frame_axis = arr.ndim == (4 if colour else 3)
    shape = arr.shape[1:] if frame_axis else arr.shape
    ds.SamplesPerPixel = 3 if colour else 1
    ds.PhotometricInterpretation = photometric
    ds.Rows, ds.Columns = shape[0], shape[1]
    ds.BitsAllocated = arr.dtype.itemsize * 8
    ds.BitsStored = bits_stored or ds.BitsAllocated
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if arr.dtype.kind == "i" else 0
    if frame_axis:
        ds.NumberOfFrames = arr.shape[0]


def _native_bytes(arr: np.ndarray, ds: Dataset, planar: int, big_endian: bool) -> bytes:
    data = arr
    if ds.SamplesPerPixel == 3 and planar:
        data = np.moveaxis(arr, -1, -3)
    if ds.PhotometricInterpretation == "YBR_FULL_422":
        data = _pack_ybr_422(arr)
    stored = data.dtype.newbyteorder(">") if big_endian else data.dtype.newbyteorder("<")
    raw = np.ascontiguousarray(data).astype(stored).tobytes()
    return raw + b"\0" * (len(raw) % 2)


def _pack_ybr_422(rgb: np.ndarray) -> np.ndarray:
    """Native YBR_FULL_422: each pixel pair stored as Y1 Y2 Cb Cr (PS3.3 C.7.6.3.1.2)."""
    ybr = convert_color_space(rgb, "RGB", "YBR_FULL").astype(np.int32)
    y = ybr[..., 0].reshape(*ybr.shape[:-2], -1, 2)
    chroma = (ybr[..., 0::2, 1:] + ybr[..., 1::2, 1:] + 1) // 2
    packed = np.concatenate([y, chroma], axis=-1)
    return packed.astype(np.uint8)


def _ybr_422_expected(rgb: np.ndarray) -> np.ndarray:
    packed = _pack_ybr_422(rgb)
    ybr = np.empty(rgb.shape, dtype=np.uint8)
    ybr[..., 0] = packed[..., :2].reshape(ybr.shape[:-1])
    ybr[..., 1:] = np.repeat(packed[..., 2:], 2, axis=-2)
    return convert_color_space(ybr, "YBR_FULL", "RGB")


def write_image(
    path: PathLike,
    pixels: np.ndarray,
    *,
    transfer_syntax: str = ExplicitVRLittleEndian,
    photometric: str = "MONOCHROME2",
    bits_stored: int | None = None,
    rescale: tuple[float, float] | None = None,
    window: tuple[float, float] | Sequence[tuple[float, float]] | None = None,
    voi_lut: tuple[int, np.ndarray] | None = None,
    modality_lut: tuple[int, np.ndarray] | None = None,
    pixel_padding: int | None = None,
    planar_configuration: int = 0,
    palette: np.ndarray | None = None,
    codec: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    **meta: Any,
) -> Path:
    """Write `pixels` as a DICOM image at `path` and return the path.

    `pixels` is ``(rows, cols)`` or ``(frames, rows, cols)`` for grey and palette data, and
    ``(rows, cols, 3)`` or ``(frames, rows, cols, 3)`` RGB for the colour photometrics
    (``YBR_FULL``/``YBR_FULL_422`` say how it is stored; the input is always RGB). The
    dtype sets Bits Allocated and Pixel Representation; `bits_stored` may be smaller.
    A frame axis always writes Number of Frames. `window` is one (center, width) pair or a
    list of them; `voi_lut` / `modality_lut` are ``(first_mapped, uint16 table)``;
    `palette` is a ``(n, 3)`` uint16 table for ``PALETTE COLOR``. `codec` passes encoder
    options: ``jpeg_quality``, ``jls_error``, ``j2k_ratio``, ``htj2k_qstep``, ``predictor``.
    `extra` sets any further attributes by keyword.
    """
    arr = np.asarray(pixels)
    if photometric not in COLOUR_PHOTOMETRICS and arr.ndim not in (2, 3):
        raise ValueError(f"grey pixels must be 2-D or 3-D, got shape {arr.shape}")
    frames = arr.shape[0] if arr.ndim == (4 if photometric in COLOUR_PHOTOMETRICS else 3) else 1
    ds = _base_dataset(meta, frames=frames)
    _pixel_module(ds, arr, photometric, bits_stored)
    signed = ds.PixelRepresentation == 1
    if ds.SamplesPerPixel == 3:
        ds.PlanarConfiguration = planar_configuration
    if rescale is not None:
        ds.RescaleSlope, ds.RescaleIntercept = rescale
        ds.RescaleType = "HU" if ds.Modality == "CT" else "US"
    if window is not None:
        pairs = np.atleast_2d(np.asarray(window, dtype=float))
        centers, widths = pairs[:, 0].tolist(), pairs[:, 1].tolist()
        ds.WindowCenter = centers if len(centers) > 1 else centers[0]
        ds.WindowWidth = widths if len(widths) > 1 else widths[0]
    if voi_lut is not None:
        ds.VOILUTSequence = DicomSequence([_lut_item(*voi_lut, signed_input=signed)])
    if modality_lut is not None:
        item = _lut_item(*modality_lut, signed_input=signed)
        item.ModalityLUTType = "HU"
        ds.ModalityLUTSequence = DicomSequence([item])
    if pixel_padding is not None:
        ds.add_new("PixelPaddingValue", "SS" if signed else "US", pixel_padding)
    if palette is not None:
        _add_palette(ds, palette)
    for keyword, value in (extra or {}).items():
        setattr(ds, keyword, value)
    _encode_pixels(ds, arr, UID(transfer_syntax), planar_configuration, codec or {})
    return _save(ds, path, transfer_syntax)


def _add_palette(ds: Dataset, palette: np.ndarray) -> None:
    for colour, channel in zip(("Red", "Green", "Blue"), palette.T, strict=True):
        descriptor = [len(channel) % 65536, 0, 16]
        ds.add_new(f"{colour}PaletteColorLookupTableDescriptor", "US", descriptor)
        ds.add_new(f"{colour}PaletteColorLookupTableData", "OW", channel.astype("<u2").tobytes())


# ---------------------------------------------------------------- encoders


def _encode_pixels(ds: Dataset, arr: np.ndarray, uid: UID, planar: int, codec: dict) -> None:
    if uid in NATIVE_SYNTAXES:
        vr = "OB" if ds.BitsAllocated == 8 else "OW"
        ds.add_new("PixelData", vr, _native_bytes(arr, ds, planar, uid == ExplicitVRBigEndian))
        return
    if ds.SamplesPerPixel == 3:
        ds.PlanarConfiguration = 1 if uid == RLELossless else 0
    if uid in LOSSY_SYNTAXES:
        ds.LossyImageCompression = "01"
    pydicom_options: dict[UID, dict[str, Any]] = {
        RLELossless: {"encoding_plugin": "pylibjpeg"},
        JPEGLSLossless: {"encoding_plugin": "pyjpegls"},
        JPEGLSNearLossless: {"encoding_plugin": "pyjpegls", "jls_error": codec.get("jls_error", 2)},
        JPEG2000Lossless: {"encoding_plugin": "pylibjpeg"},
        JPEG2000: {"encoding_plugin": "pylibjpeg", "j2k_cr": [codec.get("j2k_ratio", 5)]},
    }
    if uid in pydicom_options:
        ds.compress(uid, arr, generate_instance_uid=False, **pydicom_options[uid])
        return
    encoders: dict[UID, Callable[[np.ndarray, Dataset, dict], bytes]] = {
        JPEGBaseline8Bit: _encode_jpeg_baseline,
        JPEGExtended12Bit: _encode_jpeg_extended,
        JPEGLossless: _encode_jpeg_lossless,
        JPEGLosslessSV1: _encode_jpeg_lossless,
        HTJ2KLossless: _encode_htj2k,
        HTJ2K: _encode_htj2k,
    }
    if uid not in encoders:
        raise NotImplementedError(f"no encoder here for {uid.name} ({uid})")
    if uid == JPEGLosslessSV1:
        codec = {**codec, "predictor": 1}
    elif uid == JPEGLossless:
        codec = {"predictor": 6, **codec}
    if uid == HTJ2K:
        codec = {"htj2k_qstep": 0.0005, **codec}
    frames = arr if "NumberOfFrames" in ds else arr[None]
    encoded = [encoders[uid](frame, ds, codec) for frame in frames]
    ds.add_new("PixelData", "OB", encapsulate(encoded, has_bot=True))
    ds["PixelData"].is_undefined_length = True


def _encode_jpeg_baseline(frame: np.ndarray, ds: Dataset, codec: dict) -> bytes:
    if frame.dtype != np.uint8:
        raise ValueError("JPEG baseline needs uint8 pixels")
    subsampling = {"MONOCHROME2": "4:4:4", "YBR_FULL": "4:4:4", "YBR_FULL_422": "4:2:2"}
    if ds.PhotometricInterpretation not in subsampling:
        raise ValueError("JPEG baseline stores MONOCHROME2, YBR_FULL or YBR_FULL_422 here")
    buffer = io.BytesIO()
    options = {"quality": codec.get("jpeg_quality", 95)}
    if ds.SamplesPerPixel == 3:
        options["subsampling"] = subsampling[ds.PhotometricInterpretation]
    Image.fromarray(frame).save(buffer, format="JPEG", **options)
    return buffer.getvalue()


def _encode_jpeg_extended(frame: np.ndarray, ds: Dataset, codec: dict) -> bytes:
    import imagecodecs

    return bytes(
        imagecodecs.jpeg8_encode(frame, level=codec.get("jpeg_quality", 95), bitspersample=12)
    )


def _encode_htj2k(frame: np.ndarray, ds: Dataset, codec: dict) -> bytes:
    import imagecodecs

    qstep = codec.get("htj2k_qstep")
    if qstep is None:
        return bytes(imagecodecs.htj2k_encode(frame, level=0, reversible=True))
    return bytes(imagecodecs.htj2k_encode(frame, level=qstep, reversible=False))


def _encode_jpeg_lossless(frame: np.ndarray, ds: Dataset, codec: dict) -> bytes:
    """Encode one frame as JPEG lossless (process 14, ITU T.81 H.1) with the predictor
    ``codec["predictor"]`` (1..7; 1 is SV1), interleaved components and a fixed Huffman
    table in which every difference category 0..16 has a 5-bit code."""
    predictor = int(codec.get("predictor", 1))
    precision = int(ds.BitsStored)
    if frame.dtype.kind != "u":
        raise ValueError("JPEG lossless here encodes unsigned samples only")
    img = frame.astype(np.int64).reshape(frame.shape[0], frame.shape[1], -1)
    rows, cols, comps = img.shape
    diff = img - _lossless_prediction(img, predictor, precision)
    diff = (diff + 32768) % 65536 - 32768  # modulo 2**16, as T.81 H.1.2.1 defines it
    magnitude = np.abs(diff)
    category = np.where(diff == -32768, 16, np.ceil(np.log2(magnitude + 1)).astype(np.int64))
    extra = np.where(diff < 0, diff - 1, diff) & ((1 << category) - 1)
    extra = np.where(category == 16, 0, extra)
    extra_bits = np.where(category == 16, 0, category)
    codes = ((category << extra_bits) | extra).ravel()
    lengths = (5 + extra_bits).ravel()
    entropy = _pack_bits(codes, lengths)

    def segment(marker: int, body: bytes) -> bytes:
        return bytes([0xFF, marker]) + (len(body) + 2).to_bytes(2, "big") + body

    sof = bytes([precision]) + rows.to_bytes(2, "big") + cols.to_bytes(2, "big") + bytes([comps])
    sof += b"".join(bytes([c + 1, 0x11, 0]) for c in range(comps))
    bits = bytes([0, 0, 0, 0, 17] + [0] * 11)
    dht = bytes([0x00]) + bits + bytes(range(17))
    sos = bytes([comps]) + b"".join(bytes([c + 1, 0x00]) for c in range(comps))
    sos += bytes([predictor, 0, 0])
    return (
        b"\xff\xd8"
        + segment(0xC3, sof)
        + segment(0xC4, dht)
        + segment(0xDA, sos)
        + entropy
        + b"\xff\xd9"
    )


def _lossless_prediction(img: np.ndarray, predictor: int, precision: int) -> np.ndarray:
    ra = np.zeros_like(img)
    rb = np.zeros_like(img)
    rc = np.zeros_like(img)
    ra[:, 1:] = img[:, :-1]
    rb[1:, :] = img[:-1, :]
    rc[1:, 1:] = img[:-1, :-1]
    formulas = {
        1: lambda: ra,
        2: lambda: rb,
        3: lambda: rc,
        4: lambda: ra + rb - rc,
        5: lambda: ra + ((rb - rc) >> 1),
        6: lambda: rb + ((ra - rc) >> 1),
        7: lambda: (ra + rb) >> 1,
    }
    pred = formulas[predictor]().copy()
    pred[0, :] = ra[0, :]  # first line: left neighbour
    pred[1:, 0] = rb[1:, 0]  # first column: the sample above
    pred[0, 0] = 1 << (precision - 1)
    return pred


def _pack_bits(codes: np.ndarray, lengths: np.ndarray) -> bytes:
    width = int(lengths.max(initial=1))
    shifts = lengths[:, None] - 1 - np.arange(width)[None, :]
    bits = (codes[:, None] >> np.clip(shifts, 0, None)) & 1
    stream = bits[shifts >= 0].astype(np.uint8)
    stream = np.concatenate([stream, np.ones(-len(stream) % 8, dtype=np.uint8)])
    packed = np.packbits(stream)
    stuffed = np.insert(packed, np.flatnonzero(packed == 0xFF) + 1, 0)
    return stuffed.tobytes()


# ---------------------------------------------------------------- named fixtures


def write_syntax(
    folder: PathLike,
    transfer_syntax: str,
    *,
    kind: str = "grey16",
    frames: int | None = None,
    size: tuple[int, int] = (64, 48),
    name: str | None = None,
    codec: dict[str, Any] | None = None,
    **meta: Any,
) -> Written:
    """Write a phantom in `transfer_syntax`. `kind` is ``grey8``, ``grey12`` (uint16,
    Bits Stored 12), ``grey16``, ``signed16`` (int16) or ``rgb``; `frames` adds a frame
    axis. For lossy syntaxes the returned pixels are the source, not the decoded result."""
    uid = UID(transfer_syntax)
    rows, cols = size
    bits_stored = None
    photometric = "MONOCHROME2"
    if kind == "rgb":
        pixels = colour_phantom(rows, cols, frames=frames)
        photometric = "YBR_FULL_422" if uid == JPEGBaseline8Bit else "RGB"
    else:
        dtype, bits_stored = {
            "grey8": (np.uint8, None),
            "grey12": (np.uint16, 12),
            "grey16": (np.uint16, None),
            "signed16": (np.int16, None),
        }[kind]
        pixels = phantom(rows, cols, frames=frames, dtype=dtype, bits_stored=bits_stored)
    target = Path(folder) / (name or f"{uid.keyword or uid}_{kind}.dcm")
    path = write_image(
        target,
        pixels,
        transfer_syntax=uid,
        photometric=photometric,
        bits_stored=bits_stored,
        codec=codec,
        **meta,
    )
    return Written(path, pixels)


def write_monochrome1(folder: PathLike, *, name: str = "mono1.dcm", **meta: Any) -> Written:
    """A MONOCHROME1 image (high values display dark), 12 bits in uint16."""
    pixels = phantom(64, 64, bits_stored=12)
    path = write_image(
        Path(folder) / name,
        pixels,
        photometric="MONOCHROME1",
        bits_stored=12,
        window=(2048, 4096),
        **{"modality": "CR", **meta},
    )
    return Written(path, pixels)


def voi_lut_table(entries: int = 4096) -> np.ndarray:
    """A sigmoid VOI LUT over `entries` inputs with 16-bit output."""
    x = np.linspace(-6, 6, entries)
    return np.round(65535 / (1 + np.exp(-x))).astype(np.uint16)


def write_voi_lut_only(folder: PathLike, *, name: str = "voi_lut.dcm", **meta: Any) -> Written:
    """An image whose only VOI transform is a VOI LUT Sequence (no Window Center/Width)."""
    pixels = phantom(64, 64, bits_stored=12)
    path = write_image(
        Path(folder) / name, pixels, bits_stored=12, voi_lut=(0, voi_lut_table(4096)), **meta
    )
    return Written(path, pixels)


def write_modality_lut(folder: PathLike, *, name: str = "modality_lut.dcm", **meta: Any) -> Written:
    """An image with a Modality LUT Sequence (stored value v maps to 2·v)."""
    pixels = phantom(64, 64, bits_stored=12)
    table = (np.arange(4096) * 2).astype(np.uint16)
    path = write_image(Path(folder) / name, pixels, bits_stored=12, modality_lut=(0, table), **meta)
    return Written(path, pixels)


def write_pixel_padding(
    folder: PathLike, *, name: str = "padding.dcm", padding: int = -2000, **meta: Any
) -> Written:
    """A CT-like int16 image whose corners hold Pixel Padding Value `padding`."""
    pixels = phantom(64, 64, dtype=np.int16, bits_stored=12) // 2
    y, x = np.mgrid[-1:1:64j, -1:1:64j]
    pixels[x**2 + y**2 > 1.0] = padding
    path = write_image(
        Path(folder) / name,
        pixels,
        rescale=(1.0, 0.0),
        pixel_padding=padding,
        **{"modality": "CT", **meta},
    )
    return Written(path, pixels)


def write_multi_window(
    folder: PathLike,
    *,
    name: str = "multi_window.dcm",
    extra: dict[str, Any] | None = None,
    **meta: Any,
) -> Written:
    """A CT image with two Window Center/Width pairs (soft tissue first, then bone)."""
    pixels = phantom(64, 64, bits_stored=12)
    path = write_image(
        Path(folder) / name,
        pixels,
        bits_stored=12,
        rescale=(1.0, -1024.0),
        window=[(40, 400), (300, 1500)],
        extra={"WindowCenterWidthExplanation": ["SOFT", "BONE"], **(extra or {})},
        **{"modality": "CT", **meta},
    )
    return Written(path, pixels)


def write_palette(folder: PathLike, *, name: str = "palette.dcm", **meta: Any) -> Written:
    """An 8-bit PALETTE COLOR image; pixels returned are the indices, the palette is
    a 256-entry 16-bit table (red ramp, green ramp down, blue constant)."""
    pixels = phantom(64, 64, dtype=np.uint8)
    ramp = np.arange(256, dtype=np.uint16) * 257
    palette = np.stack([ramp, ramp[::-1], np.full(256, 0x8000, np.uint16)], axis=1)
    path = write_image(
        Path(folder) / name, pixels, photometric="PALETTE COLOR", palette=palette, **meta
    )
    return Written(path, pixels)


def palette_rgb(written: Written) -> np.ndarray:
    """The 8-bit RGB expected for :func:`write_palette` output (table >> 8)."""
    assert written.pixels is not None
    ramp = np.arange(256, dtype=np.uint16)
    table = np.stack([ramp, ramp[::-1], np.full(256, 0x80, np.uint16)], axis=1)
    return table[written.pixels].astype(np.uint8)


def write_ybr_full_422(folder: PathLike, *, name: str = "ybr422.dcm", **meta: Any) -> Written:
    """Native (uncompressed) YBR_FULL_422; pixels returned are the RGB pydicom should
    produce after upsampling and colour conversion."""
    rgb = colour_phantom(32, 48)
    path = write_image(Path(folder) / name, rgb, photometric="YBR_FULL_422", **meta)
    return Written(path, _ybr_422_expected(rgb))


def write_planar_rgb(folder: PathLike, *, name: str = "planar_rgb.dcm", **meta: Any) -> Written:
    """An RGB image stored colour-by-plane (Planar Configuration 1)."""
    rgb = colour_phantom(32, 48)
    path = write_image(Path(folder) / name, rgb, photometric="RGB", planar_configuration=1, **meta)
    return Written(path, rgb)


def mammography_phantom(
    rows: int = 3000, columns: int = 2500, *, bits_stored: int = 12
) -> np.ndarray:
    """A uint16 breast-like image: dark background, a half-ellipse of textured tissue from
    the chest wall (left edge), a brighter pectoral triangle, a few calcification-like dots."""
    rng = np.random.default_rng(7)
    top = 2**bits_stored - 1
    coarse = rng.random((rows // 100 + 2, columns // 100 + 2)).astype(np.float32)
    texture = np.asarray(Image.fromarray(coarse).resize((columns, rows), Image.Resampling.BICUBIC))
    y = np.linspace(-1, 1, rows, dtype=np.float32)[:, None]
    x = np.linspace(0, 1, columns, dtype=np.float32)[None, :]
    radius = (x / 0.8) ** 2 + (y / 0.85) ** 2
    tissue = np.sqrt(np.clip(1.0 - radius, 0, 1))
    pectoral = (x < 0.35 * (1 - (y + 1) / 0.9)).astype(np.float32)
    image = 0.35 + 0.25 * tissue * texture + np.float32(0.15) * pectoral
    image[radius >= 1] = 0.02
    image += rng.standard_normal((rows, columns), dtype=np.float32) * 0.004
    spots = rng.integers((rows // 4, columns // 8), (3 * rows // 4, columns // 2), size=(12, 2))
    for r, c in spots:
        image[r - 3 : r + 3, c - 3 : c + 3] = 0.95
    return np.clip(image * top, 0, top).astype(np.uint16)


def write_mammography(
    folder: PathLike,
    *,
    name: str = "mammo.dcm",
    rows: int = 3000,
    columns: int = 2500,
    bits_stored: int = 12,
    transfer_syntax: str = ExplicitVRLittleEndian,
    extra: dict[str, Any] | None = None,
    **meta: Any,
) -> Written:
    """A mammography-size 16-bit frame (default 3000×2500, Bits Stored 12) with a window."""
    pixels = mammography_phantom(rows, columns, bits_stored=bits_stored)
    top = 2**bits_stored
    path = write_image(
        Path(folder) / name,
        pixels,
        transfer_syntax=transfer_syntax,
        bits_stored=bits_stored,
        window=(top * 0.45, top * 0.5),
        extra={
            "PixelSpacing": [0.07, 0.07],
            "ImageLaterality": "L",
            "ViewPosition": "CC",
            **(extra or {}),
        },
        **{"modality": "MG", **meta},
    )
    return Written(path, pixels)


def write_multiframe(
    folder: PathLike,
    *,
    frames: int = 100,
    rows: int = 512,
    columns: int = 512,
    name: str = "multiframe.dcm",
    transfer_syntax: str = ExplicitVRLittleEndian,
    extra: dict[str, Any] | None = None,
    **meta: Any,
) -> Written:
    """A 16-bit (Bits Stored 12) multi-frame file; frame i is the base phantom shifted by
    i pixels with a bright marker row at row ``i % rows``, so every frame differs."""
    base = phantom(rows, columns, bits_stored=12)
    stack = np.empty((frames, rows, columns), dtype=np.uint16)
    for i in range(frames):
        stack[i] = np.roll(base, i, axis=1)
        stack[i, i % rows, :] = 4095
    path = write_image(
        Path(folder) / name,
        stack,
        transfer_syntax=transfer_syntax,
        bits_stored=12,
        window=(2048, 4096),
        extra={"FrameTime": 40.0, **(extra or {})},
        **{"modality": "XA", **meta},
    )
    return Written(path, stack)


def write_ct_series(
    folder: PathLike,
    *,
    count: int = 5,
    size: int = 64,
    study_uid: str | None = None,
    series_uid: str | None = None,
    extra: dict[str, Any] | None = None,
    **meta: Any,
) -> list[Written]:
    """`count` CT slices ``slice_001.dcm``… sharing Study/Series UIDs, Instance Number
    1..count, stored uint16 = HU + 1024 (Rescale Intercept −1024), window 40/400."""
    study_uid = study_uid or generate_uid()
    series_uid = series_uid or generate_uid()
    meta = {"modality": "CT", "patient_id": "DCMGEN-CT", **meta}
    y, x = np.mgrid[-1 : 1 : size * 1j, -1 : 1 : size * 1j]
    written = []
    for i in range(count):
        hu = np.full((size, size), -1000, dtype=np.int32)
        hu[(x / 0.9) ** 2 + (y / 0.7) ** 2 < 1] = 40
        hu[((x - 0.1 * i / count) / 0.3) ** 2 + (y / 0.3) ** 2 < 1] = 60 + 10 * i
        stored = (hu + 1024).astype(np.uint16)
        path = write_image(
            Path(folder) / f"slice_{i + 1:03d}.dcm",
            stored,
            bits_stored=12,
            rescale=(1.0, -1024.0),
            window=(40, 400),
            extra={
                "ImagePositionPatient": [0.0, 0.0, 2.5 * i],
                "ImageOrientationPatient": [1, 0, 0, 0, 1, 0],
                "SliceLocation": 2.5 * i,
                "SliceThickness": 2.5,
                "PixelSpacing": [0.7, 0.7],
                **(extra or {}),
            },
            study_uid=study_uid,
            series_uid=series_uid,
            instance_number=i + 1,
            **meta,
        )
        written.append(Written(path, stored))
    return written


def write_tiny_series(folder: PathLike, *, count: int, size: int = 8, **meta: Any) -> list[Written]:
    """`count` tiny 16-bit CT slices ``i0001.dcm``… of one series, quickly (~1 ms each: one
    header, reused): for tests that need thousands of files. Slice i is a ramp starting at i."""
    ds = _base_dataset({"modality": "CT", **meta})
    ramp = np.arange(size * size, dtype=np.uint16).reshape(size, size)
    _pixel_module(ds, ramp, "MONOCHROME2", None)
    written = []
    for i in range(count):
        pixels = ramp + np.uint16(i)
        ds.SOPInstanceUID = generate_uid()
        ds.InstanceNumber = i + 1
        ds.PixelData = pixels.tobytes()
        path = _save(ds, Path(folder) / f"i{i + 1:04d}.dcm", ExplicitVRLittleEndian)
        written.append(Written(path, pixels))
    return written


def write_positioned_slice(
    path: PathLike,
    *,
    position: Sequence[float] | None,
    orientation: Sequence[float] | None = (1, 0, 0, 0, 1, 0),
    frame_of_reference_uid: str | None = None,
    rows: int = 16,
    columns: int = 16,
    seed: int = 0,
    **meta: Any,
) -> Written:
    """One single-frame 16-bit CT slice at `path` with the given Image Position/Orientation
    (Patient) and Frame of Reference (each left out when None). Pass ``study_uid`` and
    ``series_uid`` to put slices in one series; the pixels differ by `seed`."""
    pixels = phantom(rows, columns, bits_stored=12, seed=seed)
    extra: dict[str, Any] = {"PixelSpacing": [0.5, 0.5]}
    if position is not None:
        extra["ImagePositionPatient"] = [float(v) for v in position]
    if orientation is not None:
        extra["ImageOrientationPatient"] = [float(v) for v in orientation]
    if frame_of_reference_uid is not None:
        extra["FrameOfReferenceUID"] = frame_of_reference_uid
    written = write_image(
        path,
        pixels,
        bits_stored=12,
        rescale=(1.0, -1024.0),
        extra=extra,
        **{"modality": "CT", **meta},
    )
    return Written(written, pixels)


def write_enhanced_ct(
    folder: PathLike,
    *,
    positions: Sequence[Sequence[float]] | None,
    orientation: Sequence[float] | None = (1, 0, 0, 0, 1, 0),
    rescales: Sequence[tuple[float, float]] | tuple[float, float] | None = None,
    windows: Sequence[tuple[float, float]] | tuple[float, float] | None = None,
    rows: int = 16,
    columns: int = 16,
    name: str = "enhanced_ct.dcm",
    frame_of_reference_uid: str | None = None,
    **meta: Any,
) -> Written:
    """An Enhanced CT-like multi-frame file (one frame per entry of `positions`, or 3 when
    None) whose geometry and pixel values live in functional groups only, as PS3.3 C.7.6.16
    puts them: Plane Orientation in the shared group, Plane Position per frame, and Pixel Value
    Transformation / Frame VOI LUT shared when given one ``(slope, intercept)`` /
    ``(center, width)`` pair, per frame when given a list. Frame i's stored values are a
    phantom with a bright row at row i."""
    count = len(positions) if positions is not None else 3
    stack = phantom(rows, columns, frames=count, bits_stored=12)
    for i in range(count):
        stack[i, i % rows, :] = 4000

    def group(sequence: str, **values: Any) -> Dataset:
        inner = Dataset()
        for keyword, value in values.items():
            setattr(inner, keyword, value)
        item = Dataset()
        setattr(item, sequence, DicomSequence([inner]))
        return item

    def merged(*items: Dataset) -> Dataset:
        out = Dataset()
        for item in items:
            out.update(item)
        return out

    shared: list[Dataset] = []
    per_frame: list[list[Dataset]] = [[] for _ in range(count)]
    if orientation is not None:
        shared.append(
            group(
                "PlaneOrientationSequence", ImageOrientationPatient=[float(v) for v in orientation]
            )
        )
    for i, pos in enumerate(positions or []):
        per_frame[i].append(
            group("PlanePositionSequence", ImagePositionPatient=[float(v) for v in pos])
        )
    for values, sequence, keys in (
        (rescales, "PixelValueTransformationSequence", ("RescaleSlope", "RescaleIntercept")),
        (windows, "FrameVOILUTSequence", ("WindowCenter", "WindowWidth")),
    ):
        if values is None:
            continue
        extra_keys = {"RescaleType": "HU"} if sequence.startswith("PixelValue") else {}
        if isinstance(values[0], (int, float)):
            shared.append(group(sequence, **dict(zip(keys, values, strict=True)), **extra_keys))
        else:
            for i, pair in enumerate(values):
                per_frame[i].append(
                    group(sequence, **dict(zip(keys, pair, strict=True)), **extra_keys)
                )
    extra: dict[str, Any] = {
        "SharedFunctionalGroupsSequence": DicomSequence([merged(*shared)]),
        "PerFrameFunctionalGroupsSequence": DicomSequence([merged(*items) for items in per_frame]),
    }
    if frame_of_reference_uid is not None:
        extra["FrameOfReferenceUID"] = frame_of_reference_uid
    path = write_image(
        Path(folder) / name,
        stack,
        bits_stored=12,
        extra=extra,
        **{"modality": "CT", "sop_class_uid": _SOP_ENHANCED_CT, **meta},
    )
    return Written(path, stack)


def write_no_pixels(folder: PathLike, *, name: str = "report_sr.dcm", **meta: Any) -> Written:
    """A Basic Text SR-like dataset: no Pixel Data, one text content item."""
    ds = _base_dataset({"modality": "SR", **meta})
    ds.ValueType = "CONTAINER"
    ds.ContinuityOfContent = "SEPARATE"
    concept = Dataset()
    concept.CodeValue, concept.CodingSchemeDesignator = "11528-7", "LN"
    concept.CodeMeaning = "Radiology Report"
    ds.ConceptNameCodeSequence = DicomSequence([concept])
    item = Dataset()
    item.RelationshipType, item.ValueType = "CONTAINS", "TEXT"
    item.TextValue = "No acute findings. Generated for dcmview tests."
    ds.ContentSequence = DicomSequence([item])
    return Written(_save(ds, Path(folder) / name, ExplicitVRLittleEndian), None)


def write_truncated(
    folder: PathLike,
    *,
    name: str = "truncated.dcm",
    keep: float = 0.5,
    transfer_syntax: str = ExplicitVRLittleEndian,
    **meta: Any,
) -> Written:
    """A valid header whose Pixel Data is cut short: only the first `keep` fraction of
    the pixel bytes remain. Returned pixels are what the file should have held."""
    pixels = phantom(64, 64, bits_stored=12)
    path = write_image(
        Path(folder) / name, pixels, transfer_syntax=transfer_syntax, bits_stored=12, **meta
    )
    data = path.read_bytes()
    cut = int(pixels.nbytes * (1 - keep))
    path.write_bytes(data[: len(data) - cut])
    return Written(path, pixels)


def write_not_dicom(folder: PathLike, *, name: str = "notes.dcm") -> Path:
    """A text file with a ``.dcm`` name."""
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("This is not a DICOM file.\n" * 20)
    return path


def write_empty(folder: PathLike, *, name: str = "empty.dcm") -> Path:
    """A zero-byte file with a ``.dcm`` name."""
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


# ---------------------------------------------------------------- transfer syntax table


@dataclass(frozen=True)
class SyntaxCase:
    """One fixture in one transfer syntax: `write(folder)` makes it; `frames` is its frame
    count when it has a frame axis. `tolerance` is the
    accepted mean absolute error of the decoded pixels (0 for lossless); `max_error`, when
    set, bounds every sample (JPEG-LS near-lossless)."""

    id: str
    uid: UID
    lossless: bool
    write: Callable[[PathLike], Written]
    available: bool = True
    frames: int | None = None
    tolerance: float = 0.0
    max_error: int | None = None

    @property
    def name(self) -> str:
        return self.uid.name


def _case(
    case_id: str, uid: UID, kind: str, *, frames: int | None = None, **options: Any
) -> SyntaxCase:
    def write(folder: PathLike) -> Written:
        return write_syntax(folder, uid, kind=kind, frames=frames, name=f"{case_id}.dcm")

    lossless = options.pop("lossless", True)
    needs_imagecodecs = uid in (HTJ2KLossless, HTJ2K, JPEGExtended12Bit)
    available = HAS_IMAGECODECS if needs_imagecodecs else True
    if uid in (RLELossless, JPEGLSLossless, JPEGLSNearLossless, JPEG2000Lossless, JPEG2000):
        available = get_encoder(uid).is_available
    return SyntaxCase(case_id, uid, lossless, write, available, frames, **options)


TRANSFER_SYNTAX_CASES: list[SyntaxCase] = [
    _case("implicit_le_signed16", ImplicitVRLittleEndian, "signed16"),
    _case("explicit_le_grey12", ExplicitVRLittleEndian, "grey12"),
    _case("explicit_le_rgb", ExplicitVRLittleEndian, "rgb"),
    _case("explicit_be_grey16", ExplicitVRBigEndian, "grey16", frames=2),
    _case("explicit_be_grey8", ExplicitVRBigEndian, "grey8"),
    _case("explicit_be_rgb", ExplicitVRBigEndian, "rgb"),
    _case("deflated_grey16", DeflatedExplicitVRLittleEndian, "grey16"),
    _case("rle_grey16_3f", RLELossless, "grey16", frames=3),
    _case("rle_signed16", RLELossless, "signed16"),
    _case("rle_rgb", RLELossless, "rgb"),
    _case("jpegls_lossless_grey12", JPEGLSLossless, "grey12"),
    _case("jpegls_lossless_rgb", JPEGLSLossless, "rgb"),
    _case(
        "jpegls_near_grey8", JPEGLSNearLossless, "grey8", lossless=False, tolerance=2.0, max_error=2
    ),
    _case("j2k_lossless_grey16_3f", JPEG2000Lossless, "grey16", frames=3),
    _case("j2k_lossless_rgb", JPEG2000Lossless, "rgb"),
    _case("j2k_lossy_grey12", JPEG2000, "grey12", lossless=False, tolerance=40.0),
    _case("htj2k_lossless_grey12", HTJ2KLossless, "grey12"),
    _case("htj2k_lossless_grey16_2f", HTJ2KLossless, "grey16", frames=2),
    _case("htj2k_lossy_grey12", HTJ2K, "grey12", lossless=False, tolerance=20.0),
    _case(
        "jpeg_baseline_grey8_3f", JPEGBaseline8Bit, "grey8", frames=3, lossless=False, tolerance=3.0
    ),
    _case("jpeg_baseline_ybr422", JPEGBaseline8Bit, "rgb", lossless=False, tolerance=4.0),
    _case(
        "jpeg_baseline_ybr422_2f", JPEGBaseline8Bit, "rgb", frames=2, lossless=False, tolerance=4.0
    ),
    _case("jpeg_extended_grey12", JPEGExtended12Bit, "grey12", lossless=False, tolerance=12.0),
    _case("jpeg_lossless_p14_grey16", JPEGLossless, "grey16"),
    _case("jpeg_lossless_sv1_grey12_2f", JPEGLosslessSV1, "grey12", frames=2),
    _case("jpeg_lossless_sv1_grey8", JPEGLosslessSV1, "grey8"),
    _case("jpeg_lossless_sv1_rgb", JPEGLosslessSV1, "rgb"),
]


# ---------------------------------------------------------------- bundled corpora


def pydicom_test_files() -> list[Path]:
    """The files in pydicom's own ``data/test_files`` folder (listed, never downloaded)."""
    folder = Path(pydicom.__file__).parent / "data" / "test_files"
    return sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


def pydicom_data_files() -> list[Path]:
    """The files of the ``pydicom-data`` package (``data_store/data``), or ``[]`` when it
    is not installed. Lists the folder directly: ``get_testdata_files`` may try to download."""
    spec = importlib.util.find_spec("data_store")
    if spec is None or not spec.submodule_search_locations:
        return []
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    return sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


# -- a study with known patient identifiers (the --mask tests) ------------------------------
PATIENT_ID = "MRN4471920"
NAME_PARTS = ("Wojciechowska", "Bartholomea")
OTHER_ID = "ALT-99-3318"
ACCESSION = "ACC7731904"
BIRTH_DATE = "19530817"
INSTITUTION = "Saint Quillon Infirmary"
REFERRING = ("Okonkwo", "Theodora")
PRIVATE_NOTE = "Quillon ward 7"
# Every identifier of :func:`write_identified_study`, as a person would recognise it on screen.
IDENTIFIERS = (
    PATIENT_ID,
    *NAME_PARTS,
    OTHER_ID,
    ACCESSION,
    BIRTH_DATE,
    INSTITUTION,
    *REFERRING,
    PRIVATE_NOTE,
)


def identify(ds: Dataset) -> None:
    """Give a dataset the identifiers of :data:`IDENTIFIERS`: in plain elements, inside two
    sequences, in a private element and in the free text of descriptions and comments."""
    ds.PatientName = f"{NAME_PARTS[0]}^{NAME_PARTS[1]}"
    ds.PatientID = PATIENT_ID
    ds.OtherPatientIDs = OTHER_ID
    ds.PatientBirthDate = BIRTH_DATE
    ds.AccessionNumber = ACCESSION
    ds.InstitutionName = INSTITUTION
    ds.ReferringPhysicianName = f"{REFERRING[0]}^{REFERRING[1]}"
    ds.StudyDescription = f"CT chest for {NAME_PARTS[0]}"
    ds.SeriesDescription = f"axial {PATIENT_ID}"
    other = Dataset()
    other.PatientID = OTHER_ID
    other.IssuerOfPatientID = "Quillon registry"
    ds.OtherPatientIDsSequence = DicomSequence([other])
    request = Dataset()
    request.AccessionNumber = ACCESSION
    request.RequestedProcedureID = "RP-5512"
    request.ScheduledProcedureStepID = "SPS-5512"
    ds.RequestAttributesSequence = DicomSequence([request])
    block = ds.private_block(0x0011, "dcmview tests", create=True)
    block.add_new(0x01, "LO", PRIVATE_NOTE)
    ds.ImageComments = f"seen by {REFERRING[0]}"


def write_identified_study(folder: PathLike) -> Path:
    """A folder named after the patient (``<folder>/<PatientID>_<name>``) holding a 2-slice CT
    series, a 3-frame file and a report, all with :func:`identify`'s identifiers."""
    root = Path(folder) / f"{PATIENT_ID}_{NAME_PARTS[0]}"
    root.mkdir(parents=True)
    written = [
        *(w.path for w in write_ct_series(root, count=2, size=16)),
        write_multiframe(root, frames=3, rows=16, columns=16, name="cine.dcm").path,
        write_no_pixels(root).path,
    ]
    for path in written:
        ds = pydicom.dcmread(path)
        identify(ds)
        ds.save_as(path)
    return root
