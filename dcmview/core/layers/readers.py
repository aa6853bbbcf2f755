"""Input → :class:`LayerSource` s: DICOM layer objects, overlay planes, NIfTI files."""

from __future__ import annotations

import os
import warnings
from typing import Any

from .detect import layer_source
from .dose import read_dose
from .model import LayerError, LayerSource
from .nifti import load_nifti, read_nifti
from .overlay_planes import read_overlays
from .pmap import read_pmap
from .rtstruct import read_rtstruct
from .seg import read_seg

_READERS = {"seg": read_seg, "rtstruct": read_rtstruct, "rtdose": read_dose, "pmap": read_pmap}
NIFTI_SUFFIXES = (".nii", ".nii.gz", ".hdr", ".img", ".img.gz")


def read_dicom(ds: Any, kind: str, name: str, own_file: int | None = None) -> list[LayerSource]:
    """The layers of a DICOM dataset (read with its pixel data) whose source is ``kind``
    (see :func:`.detect.layer_source`). LayerError, or any error of the libraries, when it
    cannot be read."""
    if kind == "overlay":
        if own_file is None:
            raise LayerError("overlay planes are drawn on the file that carries them: load it")
        return read_overlays(ds, own_file)
    reader = _READERS.get(kind)
    if reader is None:
        raise LayerError("this DICOM object is not a SEG, RTSTRUCT, RT Dose or Parametric Map")
    return [reader(ds, name, own_file)]


def read_path(path: str | os.PathLike[str]) -> list[LayerSource]:
    """The layers of a file given as a layer (``--overlay``, ``add_layer(path)``): NIfTI by
    its suffix, else a DICOM layer object. LayerError says what is wrong."""
    text = os.fspath(path)
    name = os.path.basename(text)
    if text.lower().endswith(NIFTI_SUFFIXES):
        return [read_nifti(load_nifti(text), name)]
    import pydicom

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(text)
    except OSError as exc:
        raise LayerError(f"cannot read {name}: {exc.strerror or exc}") from None
    except Exception as exc:
        raise LayerError(f"{name} is neither NIfTI nor readable DICOM: {exc}") from None
    kind = layer_source(ds)
    if kind is None or kind == "overlay":
        raise LayerError(
            f"{name} is not a SEG, RTSTRUCT, RT Dose or Parametric Map (give those, or NIfTI)"
        )
    return read_dicom(ds, kind, name)
