"""Frame access in the core: the direct read of uncompressed frames matches pydicom exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.encaps import encapsulate, generate_frames

from dcmview.core import encapsulated
from dcmview.core.decoding import raw_entry
from dcmview.core.discovery import read_record
from dcmview.core.errors import PixelDecodeFailed
from dcmview.core.frames import decode_frame

from . import dicomgen as gen


def _record(path: Path):
    record, _, reason = read_record(str(path))
    assert record is not None, reason
    return record


@pytest.mark.parametrize(
    "syntax", ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"]
)
def test_unused_high_bits_follow_pydicom(tmp_path: Path, syntax: str) -> None:
    unsigned = np.array([[0x0FFF, 0xF001], [0x1234, 0x8000]], dtype=np.uint16)
    signed = np.array([[-5, 0x7FF], [-2048, 0x0800]], dtype=np.int16)
    for name, pixels in (("u.dcm", unsigned), ("s.dcm", signed)):
        path = gen.write_image(tmp_path / name, pixels, bits_stored=12, transfer_syntax=syntax)
        expected = pydicom.dcmread(path).pixel_array
        got = decode_frame(_record(path), 0)
        assert got.dtype.byteorder in ("<", "=", "|")
        assert np.array_equal(got, expected)


@pytest.mark.parametrize("syntax", ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2.5"])
@pytest.mark.parametrize("signed", [False, True])
def test_frames_with_and_without_stray_high_bits_in_one_file(
    tmp_path: Path, signed: bool, syntax: str
) -> None:
    # Frame 0 fits in Bits Stored (uncompressed, its bytes are served as read, not copied);
    # frame 1 has bits above it, cleared or sign-extended as pydicom does (here, not by
    # pydicom, for uncompressed and RLE data). /raw's body is the samples.
    dtype = np.int16 if signed else np.uint16
    clean = np.array([[0, 2047], [-2048 if signed else 4095, 5]], dtype=dtype)
    stray = np.array([[0x0FFF, 0x7001], [0x1234, -0x7000 if signed else 0xF000]], dtype=dtype)
    frames = np.stack([clean, stray])
    # Written as 16 bits stored, then declared 12: encoders refuse the stray bits.
    path = gen.write_image(tmp_path / "f.dcm", frames, transfer_syntax=syntax)
    ds = pydicom.dcmread(path)
    ds.BitsStored, ds.HighBit = 12, 11
    ds.save_as(path)
    record = _record(path)
    expected = pydicom.dcmread(path).pixel_array
    for frame in (0, 1):
        body, description = raw_entry(record, frame)
        got = description.array(body)
        assert np.array_equal(got, expected[frame])
    assert np.array_equal(raw_entry(record, 0)[1].array(raw_entry(record, 0)[0]), clean)
    assert not np.array_equal(expected[1], stray)  # the stray bits were there to remove


def test_each_frame_of_a_planar_multiframe_rgb_file(tmp_path: Path) -> None:
    rgb = gen.colour_phantom(16, 24, frames=3)
    path = gen.write_image(tmp_path / "rgb.dcm", rgb, photometric="RGB", planar_configuration=1)
    record = _record(path)
    for f in range(3):
        assert np.array_equal(decode_frame(record, f), rgb[f])


def test_a_file_shorter_than_its_header_is_refused(tmp_path: Path) -> None:
    written = gen.write_truncated(tmp_path)
    record = _record(written.path)
    with pytest.raises(Exception, match=r"could not be decoded|cannot be decoded"):
        decode_frame(record, 0)


@pytest.mark.parametrize(
    ("syntax", "fragments", "offset_table", "indexed"),
    [
        ("1.2.840.10008.1.2.5", 3, True, True),  # RLE, frames found by the Basic Offset Table
        ("1.2.840.10008.1.2.4.80", 1, False, True),  # JPEG-LS, one fragment per frame
        ("1.2.840.10008.1.2.4.80", 2, True, True),
        ("1.2.840.10008.1.2.4.80", 2, False, False),  # no table: the codestreams tell
        ("1.2.840.10008.1.2.4.90", 3, True, True),  # JPEG 2000
    ],
)
def test_compressed_frames_split_into_fragments_match_pydicom(
    tmp_path: Path, syntax: str, fragments: int, offset_table: bool, indexed: bool
) -> None:
    written = gen.write_syntax(tmp_path, syntax, kind="grey12", frames=4, size=(40, 56))
    ds = pydicom.dcmread(written.path)
    encoded = list(generate_frames(ds.PixelData, number_of_frames=4))
    ds.PixelData = encapsulate(encoded, fragments_per_frame=fragments, has_bot=offset_table)
    ds.save_as(written.path, enforce_file_format=True)
    expected = pydicom.dcmread(written.path).pixel_array
    record = _record(written.path)
    assert (encapsulated.frame_index(record).frames is not None) is indexed
    for frame in (3, 0, 2, 1):
        assert np.array_equal(decode_frame(record, frame), expected[frame])


def test_one_frame_in_several_fragments_without_a_table(tmp_path: Path) -> None:
    written = gen.write_syntax(tmp_path, "1.2.840.10008.1.2.5", kind="signed16", size=(33, 20))
    ds = pydicom.dcmread(written.path)
    (encoded,) = generate_frames(ds.PixelData, number_of_frames=1)
    ds.PixelData = encapsulate([encoded], fragments_per_frame=4, has_bot=False)
    ds.save_as(written.path, enforce_file_format=True)
    record = _record(written.path)
    assert encapsulated.frame_index(record).frames is not None
    assert np.array_equal(decode_frame(record, 0), pydicom.dcmread(written.path).pixel_array)


def test_a_compressed_frame_cut_short_is_refused(tmp_path: Path) -> None:
    written = gen.write_syntax(tmp_path, "1.2.840.10008.1.2.5", kind="grey16", frames=3)
    data = written.path.read_bytes()
    written.path.write_bytes(data[: len(data) - 200])
    record = _record(written.path)
    with pytest.raises(PixelDecodeFailed):
        decode_frame(record, 2)
    assert np.array_equal(decode_frame(record, 0), written.pixels[0])
