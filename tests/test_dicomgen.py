"""The generators in tests/dicomgen.py write files pydicom reads back as intended."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.encaps import parse_basic_offsets, parse_fragments
from pydicom.errors import InvalidDicomError
from pydicom.pixels import apply_color_lut, apply_modality_lut, apply_voi_lut, pixel_array
from pydicom.uid import ExplicitVRBigEndian, JPEGLossless, RLELossless

from tests import dicomgen as gen

CASES = [
    pytest.param(
        case,
        id=case.id,
        marks=[] if case.available else pytest.mark.skip(reason="no encoder installed"),
    )
    for case in gen.TRANSFER_SYNTAX_CASES
]
REQUIRED_KEYWORDS = (
    "PatientID",
    "PatientName",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "SOPClassUID",
    "Modality",
    "StudyDate",
    "SeriesNumber",
    "InstanceNumber",
    "StudyDescription",
    "SeriesDescription",
)


def assert_close(decoded: np.ndarray, expected: np.ndarray, case: gen.SyntaxCase) -> None:
    assert decoded.shape == expected.shape
    error = np.abs(decoded.astype(np.float64) - expected.astype(np.float64))
    if case.lossless:
        assert error.max() == 0
    else:
        assert error.mean() <= case.tolerance
    if case.max_error is not None:
        assert error.max() <= case.max_error


@pytest.mark.parametrize("case", CASES)
def test_case_round_trips_through_pydicom(tmp_path: Path, case: gen.SyntaxCase) -> None:
    written = case.write(tmp_path)
    ds = pydicom.dcmread(written.path)
    assert ds.file_meta.TransferSyntaxUID == case.uid
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert all(keyword in ds for keyword in REQUIRED_KEYWORDS)
    assert written.pixels is not None
    assert_close(ds.pixel_array, written.pixels, case)


@pytest.mark.parametrize("case", [c for c in CASES if c.values[0].uid.is_compressed])
def test_compressed_case_decodes_with_pylibjpeg(tmp_path: Path, case: gen.SyntaxCase) -> None:
    written = case.write(tmp_path)
    assert written.pixels is not None
    assert_close(pixel_array(written.path, decoding_plugin="pylibjpeg"), written.pixels, case)


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.values[0].uid.is_encapsulated and c.values[0].frames]
)
def test_multiframe_encapsulation_has_one_fragment_per_frame_and_offsets(
    tmp_path: Path, case: gen.SyntaxCase
) -> None:
    ds = pydicom.dcmread(case.write(tmp_path).path)
    frames = int(ds.NumberOfFrames)
    offsets = parse_basic_offsets(ds.PixelData)
    count, _ = parse_fragments(ds.PixelData[8 + 4 * len(offsets) :])
    assert len(offsets) == frames
    assert count == frames


def test_cases_cover_every_required_syntax() -> None:
    covered = {case.uid for case in gen.TRANSFER_SYNTAX_CASES}
    required = {
        "1.2.840.10008.1.2",
        "1.2.840.10008.1.2.1",
        "1.2.840.10008.1.2.1.99",
        "1.2.840.10008.1.2.2",
        "1.2.840.10008.1.2.5",
        "1.2.840.10008.1.2.4.50",
        "1.2.840.10008.1.2.4.70",
        "1.2.840.10008.1.2.4.80",
        "1.2.840.10008.1.2.4.81",
        "1.2.840.10008.1.2.4.90",
        "1.2.840.10008.1.2.4.91",
        "1.2.840.10008.1.2.4.201",
    }
    assert required <= covered
    assert {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.90"} <= {
        case.uid for case in gen.TRANSFER_SYNTAX_CASES if case.frames
    }


def test_file_has_preamble_and_dicm_prefix(tmp_path: Path) -> None:
    path = gen.write_image(tmp_path / "a.dcm", gen.phantom(8, 8))
    head = path.read_bytes()[:132]
    assert head[:128] == b"\0" * 128
    assert head[128:] == b"DICM"


def test_metadata_keywords_are_written(tmp_path: Path) -> None:
    path = gen.write_image(
        tmp_path / "a.dcm",
        gen.phantom(8, 8),
        patient_id="P-42",
        patient_name="Doe^Jane",
        study_uid="1.2.3.4",
        series_uid="1.2.3.4.5",
        sop_uid="1.2.3.4.5.6",
        modality="MR",
        study_date="20200304",
        series_number=7,
        instance_number=3,
        study_description="Head",
        series_description="T1",
    )
    ds = pydicom.dcmread(path)
    assert (ds.PatientID, str(ds.PatientName), ds.Modality) == ("P-42", "Doe^Jane", "MR")
    assert (ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID) == (
        "1.2.3.4",
        "1.2.3.4.5",
        "1.2.3.4.5.6",
    )
    assert (ds.StudyDate, ds.SeriesNumber, ds.InstanceNumber) == ("20200304", 7, 3)
    assert (ds.StudyDescription, ds.SeriesDescription) == ("Head", "T1")
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.4"


def test_unknown_metadata_keyword_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="patient_idd"):
        gen.write_image(tmp_path / "a.dcm", gen.phantom(8, 8), patient_idd="x")


def test_extra_sets_any_attribute(tmp_path: Path) -> None:
    path = gen.write_image(
        tmp_path / "a.dcm", gen.phantom(8, 8), extra={"PixelSpacing": [0.5, 0.25]}
    )
    assert [float(v) for v in pydicom.dcmread(path).PixelSpacing] == [0.5, 0.25]


def test_pixel_content_is_deterministic(tmp_path: Path) -> None:
    first = gen.write_syntax(tmp_path / "a", RLELossless, frames=2)
    second = gen.write_syntax(tmp_path / "b", RLELossless, frames=2)
    assert first.pixels is not None and second.pixels is not None
    assert np.array_equal(first.pixels, second.pixels)
    assert pydicom.dcmread(first.path).PixelData == pydicom.dcmread(second.path).PixelData


def test_big_endian_pixel_bytes_are_swapped(tmp_path: Path) -> None:
    pixels = gen.phantom(8, 8)
    path = gen.write_image(tmp_path / "be.dcm", pixels, transfer_syntax=ExplicitVRBigEndian)
    assert pydicom.dcmread(path).PixelData == pixels.astype(">u2").tobytes()


def test_signed_pixels_with_fewer_bits_stored(tmp_path: Path) -> None:
    pixels = gen.phantom(16, 16, dtype=np.int16, bits_stored=12)
    path = gen.write_image(tmp_path / "s.dcm", pixels, bits_stored=12)
    ds = pydicom.dcmread(path)
    assert (ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation) == (16, 12, 11, 1)
    assert pixels.min() < 0
    assert np.array_equal(ds.pixel_array, pixels)


@pytest.mark.parametrize("predictor", range(1, 8))
def test_jpeg_lossless_every_predictor_round_trips(tmp_path: Path, predictor: int) -> None:
    pixels = gen.phantom(24, 20, bits_stored=16, seed=predictor)
    path = gen.write_image(
        tmp_path / "p.dcm", pixels, transfer_syntax=JPEGLossless, codec={"predictor": predictor}
    )
    assert np.array_equal(pixel_array(path, decoding_plugin="pylibjpeg"), pixels)


def test_monochrome1(tmp_path: Path) -> None:
    written = gen.write_monochrome1(tmp_path)
    ds = pydicom.dcmread(written.path)
    assert ds.PhotometricInterpretation == "MONOCHROME1"
    assert np.array_equal(ds.pixel_array, written.pixels)


def test_voi_lut_only_file_has_lut_and_no_window(tmp_path: Path) -> None:
    written = gen.write_voi_lut_only(tmp_path)
    ds = pydicom.dcmread(written.path)
    assert "WindowCenter" not in ds and "WindowWidth" not in ds
    assert len(ds.VOILUTSequence) == 1
    mapped = apply_voi_lut(ds.pixel_array, ds)
    assert np.array_equal(mapped, gen.voi_lut_table(4096)[written.pixels])


def test_modality_lut_sequence(tmp_path: Path) -> None:
    written = gen.write_modality_lut(tmp_path)
    ds = pydicom.dcmread(written.path)
    assert "RescaleSlope" not in ds
    assert written.pixels is not None
    assert np.array_equal(apply_modality_lut(ds.pixel_array, ds), written.pixels * 2)


def test_pixel_padding_value_is_present_in_pixels(tmp_path: Path) -> None:
    written = gen.write_pixel_padding(tmp_path, padding=-2000)
    ds = pydicom.dcmread(written.path)
    assert ds.PixelPaddingValue == -2000
    assert ds["PixelPaddingValue"].VR == "SS"
    assert (ds.pixel_array == -2000).sum() > 100
    assert (ds.pixel_array != -2000).sum() > 100


def test_multi_valued_window(tmp_path: Path) -> None:
    ds = pydicom.dcmread(gen.write_multi_window(tmp_path).path)
    assert [float(v) for v in ds.WindowCenter] == [40.0, 300.0]
    assert [float(v) for v in ds.WindowWidth] == [400.0, 1500.0]


def test_palette_colour(tmp_path: Path) -> None:
    written = gen.write_palette(tmp_path)
    ds = pydicom.dcmread(written.path)
    assert ds.PhotometricInterpretation == "PALETTE COLOR"
    rgb = apply_color_lut(ds.pixel_array, ds)
    assert np.array_equal((rgb >> 8).astype(np.uint8), gen.palette_rgb(written))


def test_native_ybr_full_422(tmp_path: Path) -> None:
    written = gen.write_ybr_full_422(tmp_path)
    ds = pydicom.dcmread(written.path)
    assert ds.PhotometricInterpretation == "YBR_FULL_422"
    assert len(ds.PixelData) == ds.Rows * ds.Columns * 2
    assert np.array_equal(ds.pixel_array, written.pixels)
    source = gen.colour_phantom(ds.Rows, ds.Columns).astype(float)
    assert np.abs(ds.pixel_array - source).mean() < 4


def test_planar_rgb(tmp_path: Path) -> None:
    written = gen.write_planar_rgb(tmp_path)
    ds = pydicom.dcmread(written.path)
    assert ds.PlanarConfiguration == 1
    assert written.pixels is not None
    assert ds.PixelData[: ds.Rows * ds.Columns] == written.pixels[..., 0].tobytes()
    assert np.array_equal(ds.pixel_array, written.pixels)


def test_mammography_size_frame(tmp_path: Path) -> None:
    written = gen.write_mammography(tmp_path)
    ds = pydicom.dcmread(written.path)
    assert (ds.Rows, ds.Columns, ds.BitsAllocated, ds.BitsStored) == (3000, 2500, 16, 12)
    assert ds.Modality == "MG" and "WindowCenter" in ds
    assert np.array_equal(ds.pixel_array, written.pixels)
    assert int(ds.pixel_array.max()) < 4096


def test_multiframe_512(tmp_path: Path) -> None:
    written = gen.write_multiframe(tmp_path, frames=6)
    ds = pydicom.dcmread(written.path)
    assert (ds.NumberOfFrames, ds.Rows, ds.Columns, ds.BitsAllocated) == (6, 512, 512, 16)
    assert np.array_equal(pixel_array(written.path, index=5), written.pixels[5])
    assert written.pixels is not None
    assert len({frame.tobytes() for frame in written.pixels}) == 6


def test_ct_series_shares_uids_and_numbers_instances(tmp_path: Path) -> None:
    series = gen.write_ct_series(tmp_path, count=4)
    datasets = [pydicom.dcmread(w.path) for w in series]
    assert len({ds.StudyInstanceUID for ds in datasets}) == 1
    assert len({ds.SeriesInstanceUID for ds in datasets}) == 1
    assert len({ds.SOPInstanceUID for ds in datasets}) == 4
    assert [ds.InstanceNumber for ds in datasets] == [1, 2, 3, 4]
    hu = apply_modality_lut(datasets[0].pixel_array, datasets[0])
    assert hu.min() == -1000


def test_tiny_series_writes_distinct_numbered_slices(tmp_path: Path) -> None:
    series = gen.write_tiny_series(tmp_path, count=3, patient_id="TINY")
    datasets = [pydicom.dcmread(w.path) for w in series]
    assert [w.path.name for w in series] == ["i0001.dcm", "i0002.dcm", "i0003.dcm"]
    assert len({ds.SeriesInstanceUID for ds in datasets}) == 1
    assert len({ds.SOPInstanceUID for ds in datasets}) == 3
    assert [ds.InstanceNumber for ds in datasets] == [1, 2, 3]
    assert datasets[2].PatientID == "TINY"
    assert [int(ds.pixel_array[0, 0]) for ds in datasets] == [0, 1, 2]


def test_file_without_pixel_data(tmp_path: Path) -> None:
    ds = pydicom.dcmread(gen.write_no_pixels(tmp_path).path)
    assert "PixelData" not in ds
    assert ds.Modality == "SR" and ds.PatientID


def test_truncated_pixel_data(tmp_path: Path) -> None:
    written = gen.write_truncated(tmp_path)
    header = pydicom.dcmread(written.path, stop_before_pixels=True)
    assert (header.Rows, header.Columns) == (64, 64)
    with pytest.raises(ValueError, match="less than expected"):
        _ = pydicom.dcmread(written.path).pixel_array


@pytest.mark.parametrize("writer", [gen.write_not_dicom, gen.write_empty])
def test_non_dicom_files_are_rejected(tmp_path: Path, writer) -> None:
    with pytest.raises(InvalidDicomError):
        pydicom.dcmread(writer(tmp_path))


def test_pydicom_test_files_are_listed_locally() -> None:
    names = {path.name for path in gen.pydicom_test_files()}
    assert {"CT_small.dcm", "MR_small_RLE.dcm"} <= names


def test_pydicom_data_files_are_listed_locally() -> None:
    files = gen.pydicom_data_files()
    if not files:
        pytest.skip("pydicom-data is not installed")
    assert "JPGLosslessP14SV1_1s_1f_8b.dcm" in {path.name for path in files}
