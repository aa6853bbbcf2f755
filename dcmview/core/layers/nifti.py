"""NIfTI images as layers, read with nibabel: placed by their affine turned from RAS to LPS.

Integer data, and float data holding only a few whole numbers (label maps are often saved as
float), are ``labels``; other float data are a ``heatmap``. A 4-D image shows its first volume.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .model import AffineVolume, LayerError, LayerSource, label_dtype, labels_of, value_range

# RAS (NIfTI's world) to LPS (DICOM's patient coordinates): x and y change sign.
RAS_TO_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])
MAX_FLOAT_LABELS = 255


def load_nifti(path: str | os.PathLike[str]) -> Any:
    """The nibabel image at ``path``; LayerError when nibabel cannot read it."""
    import nibabel

    try:
        return nibabel.load(os.fspath(path))
    except Exception as exc:
        raise LayerError(f"nibabel cannot read {os.path.basename(path)}: {exc}") from None


def read_nifti(image: Any, name: str) -> LayerSource:
    """A layer of a nibabel image (anything with ``dataobj`` and ``affine``)."""
    data = np.asanyarray(image.dataobj)
    if data.ndim == 4:
        data = data[..., 0]
    if data.ndim == 2:
        data = data[..., None]
    if data.ndim != 3:
        raise LayerError(f"a NIfTI layer must be 3-D (or 4-D), not of shape {data.shape}")
    affine = RAS_TO_LPS @ np.asarray(image.affine, dtype=np.float64)
    if _is_labels(data):
        if data.size and data.min() < 0:
            raise LayerError("a label image cannot hold negative values")
        top = int(data.max()) if data.size else 0
        if top > 65535:
            raise LayerError(f"label values go up to {top}; at most 65535 are drawn")
        labels = data.astype(label_dtype(top))
        return LayerSource(
            name=name,
            kind="labels",
            source="nifti",
            placement=AffineVolume("", labels, affine),
            labels=labels_of(labels),
            value_range=(0.0, float(top)),
        )
    values = data.astype(np.float32, copy=False)
    return LayerSource(
        name=name,
        kind="heatmap",
        source="nifti",
        placement=AffineVolume("", values, affine),
        value_range=value_range(values),
    )


def _is_labels(data: np.ndarray) -> bool:
    if data.dtype.kind in "biu":
        return True
    if data.dtype.kind != "f":
        return False
    # A sample first: a probability map shows fractions in it at once (a full np.unique of a
    # 200×512² float volume takes seconds).
    # (order K: NIfTI arrays are Fortran-ordered, and a C-order ravel would copy all of it)
    for values in (data.ravel(order="K")[:: max(1, data.size // 65536)], data):
        if not np.isfinite(values).all() or not np.array_equal(values, np.round(values)):
            return False
        if np.unique(values).size > MAX_FLOAT_LABELS + 1:
            return False
    return True
