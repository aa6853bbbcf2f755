"""Layer test data made with the libraries: CT series with known geometry (pydicom, through
:mod:`tests.dicomgen`), DICOM SEG and Parametric Maps over them (highdicom), NIfTI files with
known affines (nibabel), and CT series for pydicom's own ``rtstruct.dcm`` / ``rtdose.dcm``.
"""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import highdicom as hd
import nibabel
import numpy as np
import pydicom
from pydicom.uid import ImplicitVRLittleEndian, generate_uid

from . import dicomgen as gen

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"


def write_ct(
    folder: Path,
    *,
    count: int = 5,
    rows: int = 32,
    columns: int = 32,
    origin: Sequence[float] = (0.0, 0.0, 0.0),
    spacing: tuple[float, float] = (0.7, 0.7),
    step: float = 2.5,
    orientation: Sequence[float] = (1, 0, 0, 0, 1, 0),
    for_uid: str | None = None,
    series_uid: str | None = None,
    study_uid: str | None = None,
) -> list[Path]:
    """``count`` CT slices ``ct_001.dcm``… of one series: slice i at ``origin + i*step*normal``
    (mm, LPS), pixels ``spacing`` (row, column) apart. Pixel values differ per slice."""
    folder.mkdir(parents=True, exist_ok=True)
    for_uid = for_uid or generate_uid()
    series_uid = series_uid or generate_uid()
    study_uid = study_uid or generate_uid()
    row, column = np.array(orientation[:3], float), np.array(orientation[3:], float)
    normal = np.cross(row, column)
    paths = []
    for i in range(count):
        pixels = (gen.phantom(rows, columns, bits_stored=12, seed=i) // 4).astype(np.uint16)
        position = np.asarray(origin, float) + i * step * normal
        paths.append(
            gen.write_image(
                folder / f"ct_{i + 1:03d}.dcm",
                pixels,
                bits_stored=12,
                rescale=(1.0, -1024.0),
                # The pixels' whole range (-1024..-1 HU): a grey image for blends to be seen on.
                window=(-512, 1024),
                extra={
                    "FrameOfReferenceUID": for_uid,
                    "ImagePositionPatient": [float(v) for v in position],
                    "ImageOrientationPatient": [float(v) for v in orientation],
                    "PixelSpacing": [float(spacing[0]), float(spacing[1])],
                    "SliceThickness": float(abs(step)),
                },
                modality="CT",
                patient_id="LAYERS",
                study_uid=study_uid,
                series_uid=series_uid,
                instance_number=i + 1,
            )
        )
    return paths


def _segment(number: int, label: str, color: str | None) -> Any:
    return hd.seg.SegmentDescription(
        segment_number=number,
        segment_label=label,
        segmented_property_category=hd.sr.CodedConcept("91723000", "SCT", "Anatomical Structure"),
        segmented_property_type=hd.sr.CodedConcept("10200004", "SCT", "Liver"),
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
        display_color=hd.color.CIELabColor.from_string(color) if color else None,
    )


def write_seg(
    path: Path,
    sources: Sequence[os.PathLike[str] | str],
    mask: np.ndarray,
    *,
    labels: Sequence[tuple[str, str | None]] = (("Liver", "red"), ("Lesion", "lime")),
    fractional: bool = False,
) -> Path:
    """A SEG over the images ``sources`` (in slice order): ``mask`` (frames, rows, columns) is a
    label map (value n = segment n, named and coloured from ``labels``), or for
    ``fractional`` a float (frames, rows, columns) of one segment."""
    datasets = [pydicom.dcmread(p) for p in sources]
    if fractional:
        pixel_array = mask.astype(np.float32)
        descriptions = [_segment(1, labels[0][0], labels[0][1])]
        kind = hd.seg.SegmentationTypeValues.FRACTIONAL
    else:
        count = int(mask.max())
        pixel_array = mask.astype(np.uint8)
        descriptions = [_segment(n, *labels[n - 1]) for n in range(1, count + 1)]
        kind = hd.seg.SegmentationTypeValues.BINARY
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seg = hd.seg.Segmentation(
            source_images=datasets,
            pixel_array=pixel_array,
            segmentation_type=kind,
            segment_descriptions=descriptions,
            series_instance_uid=hd.UID(),
            series_number=100,
            sop_instance_uid=hd.UID(),
            instance_number=1,
            manufacturer="dcmview-tests",
            manufacturer_model_name="layergen",
            software_versions="1",
            device_serial_number="1",
            series_description="Segmentation",
        )
        seg.save_as(path)
    return path


def write_pmap(path: Path, sources: Sequence[os.PathLike[str] | str], values: np.ndarray) -> Path:
    """A float Parametric Map (units mm2/s) over the images ``sources``: ``values`` is
    (frames, rows, columns) float32."""
    datasets = [pydicom.dcmread(p) for p in sources]
    mapping = hd.pm.RealWorldValueMapping(
        lut_label="ADC",
        lut_explanation="apparent diffusion coefficient",
        unit=hd.sr.CodedConcept("mm2/s", "UCUM", "mm2/s"),
        value_range=(float(values.min()), float(values.max())),
        slope=1.0,
        intercept=0.0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pmap = hd.pm.ParametricMap(
            source_images=datasets,
            pixel_array=values.astype(np.float32),
            series_instance_uid=hd.UID(),
            series_number=200,
            sop_instance_uid=hd.UID(),
            instance_number=1,
            manufacturer="dcmview-tests",
            manufacturer_model_name="layergen",
            software_versions="1",
            device_serial_number="1",
            contains_recognizable_visual_features=False,
            real_world_value_mappings=[mapping],
            window_center=float(values.mean()),
            window_width=float(np.ptp(values) or 1.0),
        )
        pmap.save_as(path)
    return path


def write_nifti(path: Path, data: np.ndarray, affine_ras: np.ndarray) -> Path:
    """``data`` with voxel → RAS mm ``affine_ras``, written by nibabel."""
    nibabel.save(nibabel.Nifti1Image(data, affine_ras), str(path))
    return path


def ct_for_rtstruct(folder: Path) -> list[Path]:
    """Copy pydicom's ``rtstruct.dcm`` into ``folder`` with a CT series it references (same
    series UID and Frame of Reference): 3 slices at z = -200, -190, -180 mm, 64² pixels 8 mm
    apart from (-252, -252)."""
    ref = pydicom.dcmread(TEST_FILES / "rtstruct.dcm", force=True)
    frame = ref.ReferencedFrameOfReferenceSequence[0]
    series = frame.RTReferencedStudySequence[0].RTReferencedSeriesSequence[0].SeriesInstanceUID
    paths = write_ct(
        folder,
        count=3,
        rows=64,
        columns=64,
        origin=(-252.0, -252.0, -200.0),
        spacing=(8.0, 8.0),
        step=10.0,
        for_uid=frame.FrameOfReferenceUID,
        series_uid=series,
    )
    # pydicom's file has no file meta: written again as Part 10 so that discovery loads it.
    gen.write_part10(ref, folder / "rtstruct.dcm", ImplicitVRLittleEndian)
    return paths


def ct_for_rtdose(folder: Path, *, name: str = "rtdose.dcm") -> list[Path]:
    """Copy pydicom's RT Dose ``name`` into ``folder`` with a CT series on its grid's Frame of
    Reference: 15 slices 5 mm apart from z = -761.87, 40² pixels 2.5 mm apart starting 7.5 mm
    before the dose grid (so each dose pixel covers 4 × 4 image pixels)."""
    dose = pydicom.dcmread(TEST_FILES / name, force=True)
    x, y, z = (float(v) for v in dose.ImagePositionPatient)
    paths = write_ct(
        folder,
        count=15,
        rows=40,
        columns=40,
        origin=(x - 3.75, y - 3.75, z),
        spacing=(2.5, 2.5),
        step=5.0,
        for_uid=dose.FrameOfReferenceUID,
    )
    shutil.copy(TEST_FILES / name, folder / name)
    return paths
