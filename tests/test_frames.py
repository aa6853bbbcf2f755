"""Frame access in the core: the direct read of uncompressed frames matches pydicom exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest

from dcmview.core.discovery import read_record
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
