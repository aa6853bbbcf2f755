"""The demo study behind ``dcmview --demo``: synthetic images generated once into a cache.

Everything is drawn with numpy (no downloaded data): a 40-slice CT series with a DICOM SEG of
its organs and a NIfTI lesion prediction over it (:mod:`dcmview.demo_layers`), a 72-frame RLE
angiography cine, an RGB ultrasound-like image, a 3000×2500 mammogram and an EMBED-style
ROI CSV whose paths are relative to its own folder. Generation writes into a temporary
sibling folder and renames it into place, so an interrupted run never leaves half a demo.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    UID,
    ExplicitVRLittleEndian,
    RLELossless,
    generate_uid,
)

DEMO_VERSION = 2
"""Bump whenever the generated content changes: it names the cache folder."""

ANNOTATIONS_NAME = "demo_annotations.csv"
MARKER_NAME = ".dcmview-demo-complete"
_IMAGE_FOLDERS = ("ct", "seg", "cine", "colour", "mg")
# NIfTI files drawn over the images (``--overlay``), not scanned as DICOM.
_LAYERS_FOLDER = "layers"
_CONTENT = {*_IMAGE_FOLDERS, _LAYERS_FOLDER, ANNOTATIONS_NAME, MARKER_NAME}
_STAGING_INFIX = ".partial-"
_STALE_AFTER_S = 600.0

_CT_SLICES, _CT_SIZE = 40, 256
# Slice k's first pixel at (origin, origin, -step·k) mm, pixels `spacing` mm apart.
_CT_ORIGIN, _CT_SPACING, _CT_STEP = -191.25, 1.5, 5.0
_CINE_FRAMES, _CINE_SIZE, _BEAT_FRAMES = 72, 256, 24
_MG_ROWS, _MG_COLS = 3000, 2500


@dataclass(frozen=True)
class DemoStudy:
    """A generated demo: serve `inputs`, load ROIs from `annotations`."""

    root: Path
    annotations: Path

    @property
    def inputs(self) -> list[Path]:
        """The folders holding the images (not `root`: its CSV and marker are no DICOM files,
        and a scan of `root` would report them as skipped)."""
        return [self.root / name for name in _IMAGE_FOLDERS]

    @property
    def overlays(self) -> list[Path]:
        """Files drawn over the CT as layers (the NIfTI prediction; the SEG is an input)."""
        from .demo_layers import PREDICTION_NAME

        return [self.root / _LAYERS_FOLDER / PREDICTION_NAME]


def default_directory() -> Path:
    """``$XDG_CACHE_HOME/dcmview/demo-<version>`` (``~/.cache`` when unset)."""
    cache = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(cache) if os.path.isabs(cache) else Path.home() / ".cache"
    return base / "dcmview" / f"demo-{DEMO_VERSION}"


def demo_study(
    directory: str | os.PathLike[str] | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> DemoStudy:
    """Return the demo study in `directory` (default: :func:`default_directory`),
    generating it first if it is not complete there. `progress` receives short messages.

    Raises FileExistsError if `directory` holds files that are not a demo.
    """
    root = Path(directory).expanduser() if directory is not None else default_directory()
    study = DemoStudy(root=root, annotations=root / ANNOTATIONS_NAME)
    if _is_complete(root):
        return study
    report = progress or (lambda _message: None)
    root.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_staging(root)
    started = time.perf_counter()
    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}{_STAGING_INFIX}", dir=root.parent))
    try:
        _write_content(staging, report)
        (staging / MARKER_NAME).write_text(f"dcmview demo version {DEMO_VERSION}\n")
        _move_into_place(staging, root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    report(f"demo study ready in {time.perf_counter() - started:.1f} s: {root}")
    return study


def _is_complete(root: Path) -> bool:
    return (root / MARKER_NAME).is_file()


def _remove_stale_staging(root: Path) -> None:
    # A staging folder this old belongs to a run that died; a younger one may be live.
    cutoff = time.time() - _STALE_AFTER_S
    for leftover in root.parent.glob(f".{root.name}{_STAGING_INFIX}*"):
        try:
            if leftover.is_dir() and leftover.stat().st_mtime < cutoff:
                shutil.rmtree(leftover, ignore_errors=True)
        except OSError:
            continue


def _move_into_place(staging: Path, root: Path) -> None:
    if root.exists() and not _is_complete(root):
        foreign = [p.name for p in root.iterdir() if p.name not in _CONTENT]
        if foreign:
            raise FileExistsError(
                f"{root} exists and is not a dcmview demo folder (it holds {foreign[0]!r}); "
                "choose a new or empty folder"
            )
        aside = Path(tempfile.mkdtemp(prefix=f".{root.name}{_STAGING_INFIX}", dir=root.parent))
        os.replace(root, aside / "old")
        shutil.rmtree(aside, ignore_errors=True)
    try:
        os.replace(staging, root)
    except OSError:
        if not _is_complete(root):  # not a concurrent run that finished first
            raise


def _write_content(folder: Path, report: Callable[[str], None]) -> None:
    report(f"generating demo CT series ({_CT_SLICES} slices)...")
    _write_ct_series(folder / "ct")
    report("generating demo layers (organ SEG, NIfTI lesion prediction)...")
    from . import demo_layers

    ct_paths = [folder / "ct" / f"ct_{k + 1:03d}.dcm" for k in range(_CT_SLICES)]
    demo_layers.write_seg(folder / "seg" / demo_layers.SEG_NAME, ct_paths)
    demo_layers.write_prediction(
        folder / _LAYERS_FOLDER / demo_layers.PREDICTION_NAME,
        slices=_CT_SLICES,
        size=_CT_SIZE,
        origin=_CT_ORIGIN,
        spacing=_CT_SPACING,
        step=_CT_STEP,
    )
    report(f"generating demo cine ({_CINE_FRAMES} frames, RLE)...")
    cine_rois = _write_cine(folder / "cine" / "cine.dcm")
    report("generating demo colour ultrasound image...")
    _write_colour(folder / "colour" / "ultrasound_rgb.dcm")
    report(f"generating demo mammogram ({_MG_ROWS}x{_MG_COLS})...")
    mammo_rois = _write_mammogram(folder / "mg" / "mammo.dcm")
    with open(folder / ANNOTATIONS_NAME, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["anon_dicom_path", "num_ROI", "ROI_coords", "ROI_frames"])
        for path, rois in (("mg/mammo.dcm", mammo_rois), ("cine/cine.dcm", cine_rois)):
            boxes = [box for box, _ in rois]
            frames = [frame_list for _, frame_list in rois]
            frames_cell = _json(frames) if any(frames) else "[]"
            writer.writerow([path, len(rois), _json(boxes), frames_cell])


def _json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


# ---------------------------------------------------------------- DICOM assembly


def _uid(*parts: object) -> str:
    """A UID that is the same on every machine for the same demo version and parts."""
    return generate_uid(entropy_srcs=["dcmview-demo", str(DEMO_VERSION), *map(str, parts)])


def _dataset(key: str, *, patient: str, modality: str, sop_class: str, study: str) -> Dataset:
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = sop_class
    ds.StudyDate = ds.SeriesDate = "20240115"
    ds.StudyTime = ds.SeriesTime = "093000"
    ds.AccessionNumber = ""
    ds.Modality = modality
    ds.Manufacturer = "dcmview demo (synthetic)"
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = study
    ds.SeriesDescription = f"{study} (synthetic)"
    ds.PatientName = f"Demo^{modality}"
    ds.PatientID = patient
    ds.PatientBirthDate = ""
    ds.PatientSex = "O"
    ds.StudyInstanceUID = _uid(key, "study")
    ds.SeriesInstanceUID = _uid(key, "series")
    ds.StudyID = "1"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.BurnedInAnnotation = "NO"
    return ds


def _set_pixels(ds: Dataset, arr: np.ndarray, photometric: str, bits_stored: int) -> None:
    colour = photometric == "RGB"
    ds.SamplesPerPixel = 3 if colour else 1
    ds.PhotometricInterpretation = photometric
    if colour:
        ds.PlanarConfiguration = 0
    shape = arr.shape[-3:-1] if colour else arr.shape[-2:]
    ds.Rows, ds.Columns = shape
    ds.BitsAllocated = arr.dtype.itemsize * 8
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if arr.dtype.kind == "i" else 0
    if arr.ndim == (4 if colour else 3):
        ds.NumberOfFrames = arr.shape[0]
    ds.PixelData = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<")).tobytes()
    ds["PixelData"].VR = "OB" if ds.BitsAllocated == 8 else "OW"


def _save(
    ds: Dataset, path: Path, instance_key: str, transfer_syntax: str = ExplicitVRLittleEndian
) -> None:
    ds.SOPInstanceUID = _uid(instance_key, "instance")
    write_part10(ds, path, transfer_syntax)


def write_part10(ds: Dataset, path: Path, transfer_syntax: str) -> None:
    """Write ``ds`` as a complete DICOM file (preamble, DICM, file meta) in ``transfer_syntax``."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = UID(transfer_syntax)
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.file_meta = meta
    ds.preamble = b"\0" * 128
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


def _grid(rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    y = np.linspace(-1, 1, rows, dtype=np.float32)[:, None]
    x = np.linspace(-1, 1, cols, dtype=np.float32)[None, :]
    return y, x


def _inside(y: np.ndarray, x: np.ndarray, cy: float, cx: float, ry: float, rx: float) -> np.ndarray:
    return ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 < 1


def _texture(
    rng: np.random.Generator,
    shape: tuple[int, int],
    radii: tuple[tuple[int, int], ...],
    step: int = 1,
) -> np.ndarray:
    """Organic float32 texture in [0, 1]: white noise blurred at each (ry, rx) scale (in
    units of `step` pixels), summed, computed at 1/`step` resolution and scaled up."""
    small = (shape[0] // step, shape[1] // step)
    field = np.zeros(small, dtype=np.float32)
    for ry, rx in radii:
        octave = rng.standard_normal(small, dtype=np.float32)
        for _ in range(3):  # three box blurs approximate a Gaussian
            octave = _box_blur(_box_blur(octave, rx, axis=1), ry, axis=0)
        field += octave / max(float(octave.std()), 1e-6)
    field = (field - field.min()) / max(float(np.ptp(field)), 1e-6)
    if step == 1:
        return field
    return np.asarray(Image.fromarray(field).resize(shape[::-1], Image.Resampling.BILINEAR))


def _box_blur(a: np.ndarray, radius: int, axis: int) -> np.ndarray:
    pad = [(0, 0), (0, 0)]
    pad[axis] = (radius + 1, radius)
    summed = np.cumsum(np.pad(a, pad, mode="reflect"), axis=axis, dtype=np.float32)
    n = a.shape[axis]
    upper = np.take(summed, np.arange(2 * radius + 1, 2 * radius + 1 + n), axis=axis)
    lower = np.take(summed, np.arange(n), axis=axis)
    return (upper - lower) / (2 * radius + 1)


# ---------------------------------------------------------------- CT series


def _ct_slice(k: int, rng: np.random.Generator) -> np.ndarray:
    """HU values of axial slice `k` (0 = upper chest, last = upper abdomen)."""
    t = k / (_CT_SLICES - 1)
    y, x = _grid(_CT_SIZE, _CT_SIZE)
    hu = np.full((_CT_SIZE, _CT_SIZE), -1000.0, dtype=np.float32)
    hu[_inside(y, x, 0.05, 0, 0.62, 0.86)] = -90  # subcutaneous fat
    hu[_inside(y, x, 0.05, 0, 0.56, 0.80)] = 45  # muscle and soft tissue
    hu[(y > 0.74) & (y < 0.78) & (np.abs(x) < 0.92)] = 250  # table
    if t < 0.75:  # ribs: a broken ring of bone
        angle = np.arctan2((y - 0.05) / 0.51, x / 0.75)
        ring = np.abs(np.hypot((y - 0.05) / 0.51, x / 0.75) - 1) < 0.045
        hu[ring & (np.cos(angle * 14) > 0.2) & (y < 0.45)] = 900
    lung_size = max(0.0, 1 - max(0.0, t - 0.45) / 0.3)
    if lung_size > 0:
        for side in (-1, 1):
            lung = _inside(y, x, -0.02, side * 0.37, 0.42 * lung_size, 0.26 * lung_size)
            vessels = rng.random(lung.shape) < 0.02
            hu[lung] = np.where(vessels[lung], -150, -860)
    if t < 0.55:  # heart with contrast-filled ventricle
        hu[_inside(y, x, -0.02, 0.1, 0.24, 0.22)] = 45
        hu[_inside(y, x, -0.04, 0.15, 0.1, 0.08)] = 220
    if t > 0.35:  # liver grows in as the lungs shrink
        size = min(1.0, (t - 0.35) / 0.3)
        hu[_inside(y, x, 0.0, -0.33, 0.4 * size, 0.36 * size)] = 62
    if t > 0.55:
        hu[_inside(y, x, 0.1, 0.5, 0.16, 0.13)] = 50  # spleen
    if t > 0.75:
        for side in (-1, 1):
            hu[_inside(y, x, 0.3, side * 0.3, 0.12, 0.08)] = 30  # kidneys
    hu[_inside(y, x, 0.25, 0.06, 0.05, 0.05)] = 210  # aorta
    hu[_inside(y, x, 0.38, 0, 0.1, 0.09)] = 700  # vertebral body cortex
    hu[_inside(y, x, 0.38, 0, 0.08, 0.07)] = 250  # cancellous bone
    hu[_inside(y, x, 0.53, 0, 0.035, 0.035)] = 20  # spinal canal
    hu += rng.normal(0, 8, hu.shape).astype(np.float32)
    return np.round(hu).astype(np.int16)


def _write_ct_series(folder: Path) -> None:
    rng = np.random.default_rng(1)
    for k in range(_CT_SLICES):
        ds = _dataset(
            "ct",
            patient="DEMO-CT",
            modality="CT",
            sop_class="1.2.840.10008.5.1.4.1.1.2",
            study="CT chest-abdomen",
        )
        ds.InstanceNumber = k + 1
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.SliceThickness = _CT_STEP
        ds.SliceLocation = -_CT_STEP * k
        ds.FrameOfReferenceUID = _uid("ct", "frame-of-reference")
        ds.ImagePositionPatient = [_CT_ORIGIN, _CT_ORIGIN, -_CT_STEP * k]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing = [_CT_SPACING, _CT_SPACING]
        ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
        ds.WindowCenter, ds.WindowWidth = 40, 400
        ds.WindowCenterWidthExplanation = "SOFT TISSUE"
        stored = (_ct_slice(k, rng).astype(np.int32) + 1024).astype(np.int16)
        _set_pixels(ds, stored, "MONOCHROME2", 16)
        _save(ds, folder / f"ct_{k + 1:03d}.dcm", f"ct-{k}")


# ---------------------------------------------------------------- cine


def _write_cine(path: Path) -> list[tuple[list[int], list[int]]]:
    """A beating-heart angiography run; returns ROIs as ([ymin, xmin, ymax, xmax], frames)."""
    rng = np.random.default_rng(2)
    n = _CINE_SIZE
    y, x = _grid(n, n)
    background = 175 + 40 * np.exp(-(x**2 + y**2) / 0.8) - 30 * _texture(rng, (n, n), ((12, 12),))
    frames = np.empty((_CINE_FRAMES, n, n), dtype=np.uint8)
    for f in range(_CINE_FRAMES):
        beat = np.sin(2 * np.pi * f / _BEAT_FRAMES)
        breath = 0.03 * np.sin(2 * np.pi * f / _CINE_FRAMES)
        cy, cx, ry, rx = 0.1 + breath, 0.05, 0.5 * (1 + 0.07 * beat), 0.42 * (1 + 0.07 * beat)
        rho = np.hypot((y - cy) / ry, (x - cx) / rx)
        theta = np.arctan2(y - cy, x - cx)
        image = background - 30 * (rho < 1)
        vessel = (np.abs(rho - 1.0) < 0.03) & (theta > -2.6) & (theta < 0.9)
        vessel |= (np.abs(rho - 0.72 - 0.06 * np.sin(5 * theta)) < 0.025) & (np.abs(theta) < 1.2)
        vessel |= (np.abs(rho - 0.85 - 0.05 * np.sin(3 * theta)) < 0.02) & (theta > 1.3)
        catheter = (np.abs(x - cx + 0.27) < 0.012) & (y < cy - 0.38)
        contrast = min(1.0, 0.2 + f / 12)  # the injected contrast washes in
        image = image - 85 * contrast * vessel - 70 * catheter + rng.normal(0, 4, (n, n))
        frames[f] = np.clip(image, 0, 255).astype(np.uint8)
    ds = _dataset(
        "cine",
        patient="DEMO-XA",
        modality="XA",
        sop_class="1.2.840.10008.5.1.4.1.1.12.1",
        study="Coronary angiography",
    )
    ds.FrameTime, ds.CineRate, ds.RecommendedDisplayFrameRate = 33.3, 30, 30
    ds.FrameIncrementPointer = 0x00181063
    ds.PositionerPrimaryAngle, ds.PositionerSecondaryAngle = 30, 20
    _set_pixels(ds, frames, "MONOCHROME2", 8)
    ds.compress(RLELossless, frames, encoding_plugin=_rle_plugin(), generate_instance_uid=False)
    _save(ds, path, "cine", RLELossless)

    def box(cy: float, cx: float, half: float) -> list[int]:
        ymin, xmin, ymax, xmax = (
            (v + 1) / 2 * (n - 1) for v in (cy - half, cx - half, cy + half, cx + half)
        )
        return [round(ymin), round(xmin), round(ymax) + 1, round(xmax) + 1]

    diastole = [f for f in range(_CINE_FRAMES) if (f % _BEAT_FRAMES) in range(3, 9)]
    # The second box follows a vessel segment on the ventricle's outline (theta = -0.6).
    vessel_y, vessel_x = 0.1 + 0.5 * np.sin(-0.6), 0.05 + 0.42 * np.cos(-0.6)
    return [(box(0.1, 0.05, 0.3), diastole), (box(vessel_y, vessel_x, 0.1), list(range(24, 48)))]


def _rle_plugin() -> str:
    # pylibjpeg-rle is a dependency and much faster than pydicom's pure-Python encoder.
    return "pylibjpeg" if importlib.util.find_spec("rle") else "pydicom"


# ---------------------------------------------------------------- colour


def _write_colour(path: Path) -> None:
    """A colour-Doppler-like ultrasound: grey speckle sector, a vessel with red/blue flow,
    and a colour scale bar."""
    rng = np.random.default_rng(3)
    rows, cols = 384, 512
    yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float32)
    depth = np.hypot(yy + 40, xx - cols / 2)
    angle = np.arctan2(xx - cols / 2, yy + 40)
    sector = (np.abs(angle) < 0.7) & (depth > 60) & (depth < rows + 20)
    echo = 0.3 + 0.7 * _texture(rng, (rows, cols), ((4, 10), (12, 30)))
    speckle = rng.rayleigh(0.5, (rows, cols)).astype(np.float32)
    grey = np.clip(echo * speckle * np.exp(-depth / 700) * 230, 0, 255) * sector
    vessel = np.abs(yy - 200 - 25 * np.sin(xx / 70)) < 22
    grey[vessel] *= 0.15
    rgb = np.repeat(grey[..., None], 3, axis=2)
    flow = vessel & sector & (np.abs(xx - cols / 2) < 150)
    speed = 1 - (np.abs(yy - 200 - 25 * np.sin(xx / 70)) / 22) ** 2
    towards = np.cos(xx / 70) > 0
    rgb[flow & towards] = np.stack([200 * speed + 55, 40 * speed, 0 * speed], -1)[flow & towards]
    rgb[flow & ~towards] = np.stack([0 * speed, 60 * speed, 200 * speed + 55], -1)[flow & ~towards]
    bar = np.linspace(1, -1, 200, dtype=np.float32)[:, None]
    rgb[90:290, cols - 30 : cols - 14] = np.stack(
        [255 * np.clip(bar, 0, 1), 60 * np.abs(bar), 255 * np.clip(-bar, 0, 1)], -1
    )
    ds = _dataset(
        "colour",
        patient="DEMO-US",
        modality="US",
        sop_class="1.2.840.10008.5.1.4.1.1.6.1",
        study="Carotid Doppler",
    )
    _set_pixels(ds, rgb.astype(np.uint8), "RGB", 8)
    _save(ds, path, "colour")


# ---------------------------------------------------------------- mammography


def _write_mammogram(path: Path) -> list[tuple[list[int], list[int]]]:
    """A left MLO-like view, 12 bits stored; returns ROIs (a mass and a calcification
    cluster) as ([ymin, xmin, ymax, xmax], []) for all frames."""
    rng = np.random.default_rng(4)
    rows, cols = _MG_ROWS, _MG_COLS
    y = np.linspace(-1, 1, rows, dtype=np.float32)[:, None]
    x = np.linspace(0, 1, cols, dtype=np.float32)[None, :]
    edge = 0.78 * np.sqrt(np.clip(1 - ((y - 0.08) / 0.9) ** 2, 0, 1))  # breast outline
    depth = np.clip(1 - x / np.maximum(edge, 1e-3), 0, 1)  # 1 at chest wall, 0 at skin
    # Fibroglandular tissue: streaks running towards the nipple, denser near the chest wall.
    tissue = _texture(rng, (rows, cols), ((2, 6), (5, 16), (14, 30)), step=4)
    dense = np.clip((tissue - 0.45) * 3 + 0.8 * depth - 0.35, 0, 1) * np.clip(depth * 4, 0, 1)
    image = 1150 + 550 * np.sqrt(depth) + 1000 * dense
    image += (np.abs(depth - 0.012) < 0.012) * 250  # skin line
    pectoral = x < 0.3 * np.clip((-0.15 - y) / 0.85, 0, None)
    image = np.where(pectoral, 2350 + 250 * tissue, image)
    image = np.where(depth > 0, image, 60.0)
    image += rng.standard_normal((rows, cols), dtype=np.float32) * 25
    mass_r, mass_c, radius = 1650, 900, 90
    window = image[mass_r - 150 : mass_r + 150, mass_c - 150 : mass_c + 150]
    wy, wx = np.mgrid[-150:150, -150:150].astype(np.float32)
    distance = np.hypot(wy, wx) / (radius * (1 + 0.15 * np.sin(7 * np.arctan2(wy, wx))))
    window += 900 * np.clip(1.3 - distance, 0, 1) ** 0.7
    calc_r, calc_c = 1050, 1350
    for dr, dc in rng.integers(-55, 55, size=(14, 2)):
        r, c = calc_r + dr, calc_c + dc
        image[r - 3 : r + 3, c - 3 : c + 3] = 3900
    pixels = np.clip(image, 0, 4095).astype(np.uint16)
    ds = _dataset(
        "mg",
        patient="DEMO-MG",
        modality="MG",
        sop_class="1.2.840.10008.5.1.4.1.1.1.2",
        study="Screening mammography",
    )
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.PresentationIntentType = "FOR PRESENTATION"
    ds.ImageLaterality, ds.ViewPosition = "L", "MLO"
    ds.ImagerPixelSpacing = ds.PixelSpacing = [0.07, 0.07]
    ds.WindowCenter, ds.WindowWidth = 2100, 2600
    _set_pixels(ds, pixels, "MONOCHROME2", 12)
    _save(ds, path, "mg")
    mass = [mass_r - 130, mass_c - 130, mass_r + 130, mass_c + 130]
    calcs = [calc_r - 70, calc_c - 70, calc_r + 70, calc_c + 70]
    return [(mass, []), (calcs, [])]
