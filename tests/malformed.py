"""Broken DICOM files for the hardening tests: pydicom writes a valid file, byte surgery breaks it.

Every writer takes a folder and returns the path it wrote. :data:`CASES` names each kind of damage
and says what dcmview must make of it: skip the file with a reason, or list it and answer its
frames with a JSON error (never a 500). :func:`mutants` derives many damaged copies of valid files
(random byte flips and truncations) for the mutation test.
"""

from __future__ import annotations

import os
import random
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom.encaps import encapsulate
from pydicom.uid import ExplicitVRLittleEndian, JPEG2000Lossless, JPEGLosslessSV1, RLELossless

from . import dicomgen as gen

PathLike = str | os.PathLike[str]

PIXEL_DATA_TAG = b"\xe0\x7f\x10\x00"
ITEM_DELIMITER = b"\xfe\xff\x0d\xe0\x00\x00\x00\x00"
SEQUENCE_DELIMITER = b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"
UNDEFINED = 0xFFFFFFFF


# ---------------------------------------------------------------- byte surgery helpers


def _tag(group: int, element: int) -> bytes:
    return struct.pack("<HH", group, element)


def _explicit(group: int, element: int, vr: str, value: bytes) -> bytes:
    """One explicit VR little-endian element (short or long length form by VR)."""
    if len(value) % 2:
        value += b" " if vr in ("IS", "DS", "CS", "LO", "SH", "PN", "UT", "LT") else b"\0"
    if vr in ("OB", "OW", "OF", "SQ", "UT", "UN"):
        return _tag(group, element) + vr.encode() + b"\0\0" + struct.pack("<I", len(value)) + value
    return _tag(group, element) + vr.encode() + struct.pack("<H", len(value)) + value


def _find_element(data: bytes, group: int, element: int, vr: str) -> int:
    """Offset of an explicit VR LE element in the dataset (after the file meta)."""
    offset = data.find(_tag(group, element) + vr.encode(), 132)
    if offset == -1:
        raise ValueError(f"({group:04X},{element:04X}) {vr} not found")
    return offset


def _replace_short_element(data: bytes, group: int, element: int, vr: str, value: bytes) -> bytes:
    """Swap the value of a short-form element (2-byte length) for ``value``."""
    at = _find_element(data, group, element, vr)
    (length,) = struct.unpack("<H", data[at + 6 : at + 8])
    return data[:at] + _explicit(group, element, vr, value) + data[at + 8 + length :]


def _pixel_offset(data: bytes) -> int:
    at = data.rfind(PIXEL_DATA_TAG)
    if at == -1:
        raise ValueError("no Pixel Data element")
    return at


def _small_native(folder: PathLike, name: str, *, frames: int | None = None) -> Path:
    pixels = gen.phantom(32, 32, frames=frames, bits_stored=12)
    return gen.write_image(
        Path(folder) / name,
        pixels,
        transfer_syntax=ExplicitVRLittleEndian,
        bits_stored=12,
        window=(2048, 4096),
        patient_id="MALFORMED",
    )


# ---------------------------------------------------------------- the cases


def random_bytes(folder: PathLike) -> Path:
    """4 KiB of random bytes: no preamble, no DICM."""
    path = Path(folder) / "random.dcm"
    path.write_bytes(random.Random(1).randbytes(4096))
    return path


def dicm_then_random(folder: PathLike) -> Path:
    """A preamble and ``DICM``, then random bytes where the file meta should be."""
    path = Path(folder) / "dicm_random.dcm"
    path.write_bytes(b"\0" * 128 + b"DICM" + random.Random(2).randbytes(4096))
    return path


def empty_file(folder: PathLike) -> Path:
    """Zero bytes."""
    return gen.write_empty(folder, name="zero_bytes.dcm")


def truncated_pixel_data(folder: PathLike) -> Path:
    """A valid header whose Pixel Data stops halfway."""
    return gen.write_truncated(folder, name="truncated_pixels.dcm", keep=0.5).path


def truncated_header(folder: PathLike) -> Path:
    """A file cut in the middle of its dataset, long before the Pixel Data."""
    path = _small_native(folder, "truncated_header.dcm")
    data = path.read_bytes()
    path.write_bytes(data[: _find_element(data, 0x0010, 0x0010, "PN") + 5])
    return path


def huge_element_length(folder: PathLike) -> Path:
    """An OB element in the header that declares 0xFFFFFFF0 bytes (the file holds a few KiB)."""
    path = _small_native(folder, "huge_element_length.dcm")
    data = path.read_bytes()
    at = _pixel_offset(data)
    bogus = _tag(0x0009, 0x0010) + b"LO" + struct.pack("<H", 6) + b"HARDEN"
    bogus += _tag(0x0009, 0x1001) + b"OB\0\0" + struct.pack("<I", 0xFFFFFFF0) + b"\0" * 16
    path.write_bytes(data[:at] + bogus + data[at:])
    return path


def huge_pixel_length(folder: PathLike) -> Path:
    """Pixel Data whose declared length is 0xFFFFFFF0 bytes (native, so not encapsulated)."""
    path = _small_native(folder, "huge_pixel_length.dcm")
    data = bytearray(path.read_bytes())
    at = _pixel_offset(bytes(data))
    data[at + 8 : at + 12] = struct.pack("<I", 0xFFFFFFF0)
    path.write_bytes(bytes(data))
    return path


def undelimited_sequence(folder: PathLike) -> Path:
    """An undefined-length sequence whose items and sequence are never delimited: everything
    after it, Pixel Data included, reads as part of its last item."""
    path = _small_native(folder, "undelimited_sequence.dcm")
    data = path.read_bytes()
    item = _explicit(0x0008, 0x1150, "UI", b"1.2.840.10008.5.1.4.1.1.7")
    seq = _tag(0x0008, 0x1140) + b"SQ\0\0" + struct.pack("<I", UNDEFINED)
    seq += b"\xfe\xff\x00\xe0" + struct.pack("<I", UNDEFINED) + item
    # (0008,1140) sorts after the 0008 group's other elements here: put it before (0010,0010).
    insert = _find_element(data, 0x0010, 0x0010, "PN")
    path.write_bytes(data[:insert] + seq + data[insert:])
    return path


def deep_sequences(folder: PathLike, depth: int = 300) -> Path:
    """Sequences nested ``depth`` deep (Content Sequence in Content Sequence...)."""
    path = _small_native(folder, f"nested_{depth}.dcm")
    data = path.read_bytes()
    at = _pixel_offset(data)
    opener = _tag(0x0040, 0xA730) + b"SQ\0\0" + struct.pack("<I", UNDEFINED)
    opener += b"\xfe\xff\x00\xe0" + struct.pack("<I", UNDEFINED)
    opener += _explicit(0x0040, 0xA040, "CS", b"CONTAINER")
    closer = ITEM_DELIMITER + SEQUENCE_DELIMITER
    nested = opener * depth + closer * depth
    path.write_bytes(data[:at] + nested + data[at:])
    return path


def bits_stored_over_allocated(folder: PathLike) -> Path:
    """Bits Stored 20 with Bits Allocated 16."""
    pixels = gen.phantom(32, 32, bits_stored=12)
    return gen.write_image(
        Path(folder) / "bits_stored_20.dcm",
        pixels,
        bits_stored=12,
        extra={"BitsStored": 20, "HighBit": 19},
        patient_id="MALFORMED",
    )


def number_of_frames(value: str) -> Callable[[PathLike], Path]:
    """A 2-frame native file whose Number of Frames says ``value`` (0, -1, abc, 2^31...)."""

    def write(folder: PathLike) -> Path:
        safe = value.replace("-", "minus")
        path = _small_native(folder, f"frames_{safe}.dcm", frames=2)
        data = path.read_bytes()
        path.write_bytes(_replace_short_element(data, 0x0028, 0x0008, "IS", value.encode()))
        return path

    write.__doc__ = f"Number of Frames {value!r} on a 2-frame file."
    return write


def bomb(transfer_syntax: str, label: str) -> Callable[[PathLike], Path]:
    """A small encapsulated file whose header declares 1000 frames of 65535 x 65535."""

    def write(folder: PathLike) -> Path:
        written = gen.write_syntax(
            folder, transfer_syntax, kind="grey16", frames=2, name=f"bomb_{label}.dcm"
        )
        data = written.path.read_bytes()
        data = _replace_short_element(data, 0x0028, 0x0008, "IS", b"1000")
        for element in (0x0010, 0x0011):  # Rows, Columns
            data = _replace_short_element(data, 0x0028, element, "US", struct.pack("<H", 65535))
        written.path.write_bytes(data)
        return written.path

    write.__doc__ = f"{label}: 1000 frames of 65535 x 65535 declared, a few KiB stored."
    return write


def j2k_codestream_bomb(folder: PathLike) -> Path:
    """A 64 x 48 JPEG 2000 file whose codestream (SIZ marker) claims 8000 x 8000 pixels.

    Big enough that decoding it would grow the server by hundreds of MB, small enough not to
    take the machine down if that check ever regresses."""
    written = gen.write_syntax(folder, JPEG2000Lossless, kind="grey16", name="bomb_j2k_siz.dcm")
    data = bytearray(written.path.read_bytes())
    siz = data.find(b"\xff\x4f\xff\x51")  # SOC then SIZ
    if siz == -1:
        raise ValueError("no J2K codestream found")
    # SIZ: marker(2) Lsiz(2) Rsiz(2) Xsiz(4) Ysiz(4) XOsiz(4) YOsiz(4) XTsiz(4) YTsiz(4) ...
    start = siz + 2 + 2 + 2 + 2
    data[start : start + 8] = struct.pack(">II", 8000, 8000)
    data[start + 16 : start + 24] = struct.pack(">II", 8000, 8000)
    written.path.write_bytes(bytes(data))
    return written.path


def jpeg_sof_bomb(folder: PathLike) -> Path:
    """A 64 x 48 JPEG lossless file whose frame header (SOF3) claims 8000 x 8000 pixels."""
    written = gen.write_syntax(folder, JPEGLosslessSV1, kind="grey16", name="bomb_jpeg_sof.dcm")
    data = bytearray(written.path.read_bytes())
    sof = data.find(b"\xff\xc3")
    if sof == -1:
        raise ValueError("no SOF3 marker found")
    # SOF: marker(2) Lf(2) P(1) Y(2) X(2)
    data[sof + 5 : sof + 9] = struct.pack(">HH", 8000, 8000)
    written.path.write_bytes(bytes(data))
    return written.path


def jp2_zero_length_box(folder: PathLike) -> Path:
    """A JPEG 2000 frame in JP2 format whose second box declares length 0 (pydicom 3.0's own
    JP2 header walk never ends on it)."""
    written = gen.write_syntax(folder, JPEG2000Lossless, kind="grey16", name="jp2_zero_box.dcm")
    ds = pydicom.dcmread(written.path)
    frame = b"\x00\x00\x00\x0cjP  \r\n\x87\n" + b"\x00\x00\x00\x00ftyp" + b"\0" * 64
    ds.PixelData = encapsulate([frame], has_bot=True)
    ds["PixelData"].is_undefined_length = True
    ds.save_as(written.path)
    return written.path


def rle_overrun(folder: PathLike) -> Path:
    """An RLE frame whose first segment expands past the frame's end (pylibjpeg-rle panics:
    a Rust panic, raised in Python as a BaseException that is not an Exception)."""
    written = gen.write_syntax(folder, RLELossless, kind="grey16", name="rle_overrun.dcm")
    ds = pydicom.dcmread(written.path)
    first = b"\x81\x00" * 30  # 30 runs of 128 zero bytes: 3840 bytes for a 64 x 48 segment
    second = b"\x81\x00" * 24
    header = struct.pack("<16I", 2, 64, 64 + len(first), *([0] * 13))
    ds.PixelData = encapsulate([header + first + second], has_bot=True)
    ds["PixelData"].is_undefined_length = True
    ds.save_as(written.path)
    return written.path


@dataclass(frozen=True)
class Case:
    """One kind of damage: ``write(folder)`` makes it.

    ``listed``: True when dcmview must list the file, False when it must skip it with a reason,
    None when either is right (a 4 GiB element read fails or not depending on the memory the
    platform lets a process reserve). ``frames``: the status of frame 0 when listed (422, 404
    for a file left without pixel data, 200 when the pixels are intact after all).
    """

    id: str
    write: Callable[[PathLike], Path]
    listed: bool | None
    frames: int = 422


CASES: list[Case] = [
    Case("random_bytes", random_bytes, False),
    Case("dicm_then_random", dicm_then_random, None, 404),
    Case("empty_file", empty_file, False),
    Case("truncated_pixel_data", truncated_pixel_data, True),
    Case("truncated_header", truncated_header, True, 404),
    Case("huge_element_length", huge_element_length, None, 404),
    Case("huge_pixel_length", huge_pixel_length, True, 200),
    Case("undelimited_sequence", undelimited_sequence, False),
    Case("nested_300", deep_sequences, False),
    Case("nested_120", lambda folder: deep_sequences(folder, 120), True, 200),
    Case("bits_stored_over_allocated", bits_stored_over_allocated, True),
    Case("frames_0", number_of_frames("0"), True),
    Case("frames_minus_1", number_of_frames("-1"), True),
    Case("frames_abc", number_of_frames("abc"), True),
    Case("frames_2_31", number_of_frames(str(2**31)), True),
    Case("bomb_rle", bomb(RLELossless, "rle"), True),
    Case("bomb_j2k", bomb(JPEG2000Lossless, "j2k"), True),
    Case("bomb_j2k_codestream", j2k_codestream_bomb, True),
    Case("bomb_jpeg_codestream", jpeg_sof_bomb, True),
    Case("jp2_zero_length_box", jp2_zero_length_box, True),
    Case("rle_overrun", rle_overrun, True),
]


# ---------------------------------------------------------------- mutation


def mutation_sources(folder: PathLike) -> list[Path]:
    """Small valid files in several encodings, the seeds of :func:`mutants`."""
    folder = Path(folder)
    sources = [
        _small_native(folder, "native.dcm", frames=2),
        gen.write_syntax(folder, RLELossless, kind="grey16", frames=2, name="rle.dcm").path,
        gen.write_syntax(folder, JPEG2000Lossless, kind="grey12", name="j2k.dcm").path,
        gen.write_syntax(folder, JPEGLosslessSV1, kind="grey8", name="jpeg.dcm").path,
        gen.write_syntax(folder, "1.2.840.10008.1.2.1.99", kind="grey16", name="deflate.dcm").path,
        gen.write_palette(folder, name="palette.dcm").path,
    ]
    return sources


def mutants(sources: list[Path], folder: PathLike, count: int, seed: int = 7) -> Iterator[Path]:
    """``count`` damaged copies of ``sources`` in ``folder``: byte flips, truncations, or both.

    Flips favour the header (where lengths, VRs and pixel descriptions live) but reach the
    pixel data too. The same seed gives the same files.
    """
    rng = random.Random(seed)
    originals = [p.read_bytes() for p in sources]
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        source = rng.randrange(len(originals))
        data = bytearray(originals[source])
        kind = rng.choice(("flip", "truncate", "both"))
        if kind in ("flip", "both"):
            header_end = min(len(data), _header_end(originals[source]))
            for _ in range(rng.randint(1, 8)):
                if rng.random() < 0.75:
                    at = rng.randrange(132, header_end)
                else:
                    at = rng.randrange(132, len(data))
                data[at] = rng.choice((0x00, 0xFF, rng.randrange(256), data[at] ^ 0x80))
        if kind in ("truncate", "both"):
            data = data[: rng.randrange(0, len(data))]
        path = out / f"mutant_{n:04d}_{sources[source].stem}.dcm"
        path.write_bytes(bytes(data))
        yield path


def _header_end(data: bytes) -> int:
    at = data.rfind(PIXEL_DATA_TAG)
    return at + 12 if at > 132 else len(data)
