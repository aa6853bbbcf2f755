"""The scan's fast header reader agrees with pydicom on every reference file."""

from __future__ import annotations

import warnings
from pathlib import Path

import pydicom
import pytest

from dcmview.core.discovery import read_record
from dcmview.core.header_values import header_value

from .conftest import PYDICOM_TEST_FILES, pydicom_data_dir

KEYWORDS = [
    "PatientID", "PatientName", "StudyDate", "StudyDescription", "StudyInstanceUID",
    "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID", "SeriesNumber", "SeriesDescription",
    "Modality", "InstanceNumber", "Rows", "Columns", "BitsAllocated", "BitsStored",
    "PixelRepresentation", "SamplesPerPixel", "PhotometricInterpretation", "PlanarConfiguration",
    "NumberOfFrames", "RescaleSlope", "RescaleIntercept", "WindowCenter", "WindowWidth",
    "PixelSpacing", "ImagerPixelSpacing", "PixelPaddingValue", "PixelPaddingRangeLimit",
]  # fmt: skip


def _files() -> list[Path]:
    folders = [PYDICOM_TEST_FILES, pydicom_data_dir()]
    return sorted(p for d in folders if d for p in d.rglob("*") if p.is_file())


def _readable() -> list[Path]:
    """The files whose header pydicom reads (the others are not DICOM, or are broken)."""
    out = []
    for path in _files():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pydicom.dcmread(path, stop_before_pixels=True)
        except Exception:
            continue
        out.append(path)
    return out


def _normal(value: object) -> object:
    """Both readers' values as comparable text: numbers and strings alike, lists kept."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return [_normal(v) for v in value]  # type: ignore[union-attr]
    text = str(value).strip(" \0")
    try:
        return float(text)
    except ValueError:
        return text


@pytest.mark.parametrize("path", _readable(), ids=lambda p: p.name)
def test_fast_values_equal_pydicoms(path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(path, stop_before_pixels=True)
    for keyword in KEYWORDS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                slow = _normal(ds.get(keyword))
            except Exception:
                continue  # pydicom refuses the value; the scan reports such files
            fast = _normal(header_value(ds, keyword))
        assert fast == slow or (slow in ("", []) and fast in (None, "", [])), keyword


def test_reading_a_record_still_works_for_every_file() -> None:
    listed = [read_record(str(p)) for p in _files()]
    assert sum(1 for record, _, _ in listed if record is not None) > 140
