"""The demo's layers (SPEC §10): a DICOM SEG of the demo CT's organs, written with highdicom,
and a NIfTI "model prediction" over the same CT, written with nibabel.

The organ masks are the shapes the CT slices are drawn from (:func:`dcmview.demo._ct_slice`),
so the segments lie exactly on the organs. The prediction is a smooth probability map of a
lesion in the liver, stored the way NIfTI tools store it: (column, row, slice) voxels with a
RAS affine, so the viewer's placement (RAS → LPS, axes found by geometry) is what puts it on
the CT.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

SEG_NAME = "organs_seg.dcm"
PREDICTION_NAME = "lesion_prediction.nii.gz"
# (segment label, colour name for its recommended CIELab value)
SEGMENTS = (("Liver", "saddlebrown"), ("Spleen", "mediumpurple"), ("Kidneys", "gold"))


def organ_masks(slices: int, size: int) -> np.ndarray:
    """Label map (slices, rows, columns): 1 liver, 2 spleen, 3 kidneys, as the CT draws them."""
    from .demo import _grid, _inside

    y, x = _grid(size, size)
    out = np.zeros((slices, size, size), np.uint8)
    for k in range(slices):
        t = k / (slices - 1)
        if t > 0.35:
            grow = min(1.0, (t - 0.35) / 0.3)
            out[k][_inside(y, x, 0.0, -0.33, 0.4 * grow, 0.36 * grow)] = 1
        if t > 0.55:
            out[k][_inside(y, x, 0.1, 0.5, 0.16, 0.13)] = 2
        if t > 0.75:
            for side in (-1, 1):
                out[k][_inside(y, x, 0.3, side * 0.3, 0.12, 0.08)] = 3
    return out


def write_seg(path: Path, ct_paths: Sequence[Path]) -> None:
    """A binary SEG of the organs over the CT slices ``ct_paths`` (in slice order)."""
    import highdicom as hd
    import pydicom

    sources = [pydicom.dcmread(p) for p in ct_paths]
    masks = organ_masks(len(sources), int(sources[0].Rows))
    descriptions = [
        hd.seg.SegmentDescription(
            segment_number=number,
            segment_label=label,
            segmented_property_category=hd.sr.CodedConcept(
                "91723000", "SCT", "Anatomical Structure"
            ),
            segmented_property_type=hd.sr.CodedConcept("123037004", "SCT", label),
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
            display_color=hd.color.CIELabColor.from_string(color),
        )
        for number, (label, color) in enumerate(SEGMENTS, start=1)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # highdicom's notes on optional attributes
        seg = hd.seg.Segmentation(
            source_images=sources,
            pixel_array=masks,
            segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
            segment_descriptions=descriptions,
            series_instance_uid=_uid("seg", "series"),
            series_number=2,
            sop_instance_uid=_uid("seg", "instance"),
            instance_number=1,
            manufacturer="dcmview demo (synthetic)",
            manufacturer_model_name="dcmview demo",
            software_versions="1",
            device_serial_number="0",
            series_description="Organ segmentation (synthetic)",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    seg.save_as(path)


def write_prediction(
    path: Path, *, slices: int, size: int, origin: float, spacing: float, step: float
) -> None:
    """A float32 lesion probability over the CT: slice k at z = -step·k, pixel (row, column)
    at LPS (origin + spacing·column, origin + spacing·row)."""
    import nibabel

    centre_k, centre_row, centre_col = slices * 0.7, size * 0.5, size * 0.3
    k = np.arange(slices, dtype=np.float32)[None, None, :]
    row = np.arange(size, dtype=np.float32)[None, :, None]
    col = np.arange(size, dtype=np.float32)[:, None, None]
    distance = (
        ((col - centre_col) / (size * 0.06)) ** 2
        + ((row - centre_row) / (size * 0.05)) ** 2
        + ((k - centre_k) / (slices * 0.08)) ** 2
    )
    probability = np.exp(-distance).astype(np.float32)  # (column, row, slice)
    probability[probability < 0.05] = 0
    # Voxel (i = column, j = row, k) → LPS (origin + spacing·i, origin + spacing·j, -step·k),
    # written as RAS (x and y change sign).
    affine = np.array(
        [
            [-spacing, 0, 0, -origin],
            [0, -spacing, 0, -origin],
            [0, 0, -step, 0],
            [0, 0, 0, 1],
        ]
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    nibabel.save(nibabel.Nifti1Image(probability, affine), str(path))


def _uid(*parts: object) -> str:
    from .demo import _uid as demo_uid

    return demo_uid(*parts)
