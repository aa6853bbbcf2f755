"""The 10,000-file folder of ``bench/scale.py`` (and, with ``--files 100000``, a 100,000-file one):
generated once into the benchmark's cache.

50 patients (500 for 100,000 files) × 2 studies × 2 series × 50 slices of 64² 16-bit CT or MR,
laid out the way a PACS export often is (``patient/study/series/IM0001.dcm``), with the tags the
explorer groups and filters by (names, dates, descriptions, numbers). Every file is written by
pydicom through ``dcmview.demo.write_part10``, uncompressed; the header is built once per series
and only the per-slice values change, so writing takes ~20 s per 10,000 files.

A ``manifest.json`` beside the ``files`` folder, written last, marks a complete set; a folder
without it, or with an older ``GENERATION``, is regenerated.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from pydicom.dataset import Dataset  # noqa: E402
from pydicom.uid import ExplicitVRLittleEndian, generate_uid  # noqa: E402

from bench.data import default_root  # noqa: E402
from dcmview.demo import write_part10  # noqa: E402

# Bump when the content or layout changes, so cached folders are rebuilt.
GENERATION = 1

PATIENTS = 50
STUDIES_PER_PATIENT = 2
SERIES_PER_STUDY = 2
SLICES = 50
SIZE = 64
FILES = PATIENTS * STUDIES_PER_PATIENT * SERIES_PER_STUDY * SLICES

_CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
_MR_IMAGE = "1.2.840.10008.5.1.4.1.1.4"
_FAMILY = ("Smith", "Garcia", "Müller", "Rossi", "Dubois", "Nowak", "Silva", "Jensen", "Ito", "Kim")
_GIVEN = ("Anna", "Ben", "Chloé", "David", "Emma")
# (modality, study description, two series descriptions)
_PROTOCOLS = (
    ("CT", "CT CHEST WITH CONTRAST", ("AX 5.0 SOFT TISSUE", "AX 1.25 LUNG")),
    ("MR", "MR BRAIN WITHOUT CONTRAST", ("AX T2 FLAIR", "SAG T1 MPRAGE")),
    ("CT", "CT ABDOMEN PELVIS", ("AX 3.0 PORTAL VENOUS", "COR 3.0 MPR")),
    ("MR", "MR KNEE LEFT", ("SAG PD FS", "COR T1")),
)


@dataclass(frozen=True)
class SeriesPlan:
    """One series of the folder: where it goes and the values its files share."""

    folder: Path
    patient: int
    study: int
    series: int
    modality: str
    patient_id: str
    patient_name: str
    study_date: str
    study_description: str
    series_description: str


def folder(root: Path | None = None, files: int = FILES) -> Path:
    """The folder holding ``files`` files (inside the benchmark's data root)."""
    return (root or default_root()).resolve() / f"scale{files // 1000}k" / "files"


def ensure(
    root: Path | None = None, *, files: int = FILES, log: Callable[[str], None] = print
) -> Path:
    """Return the folder of ``files`` files (a multiple of :data:`FILES`) under `root`,
    generating it when missing or stale."""
    if files % FILES:
        raise ValueError(f"the file count must be a multiple of {FILES}")
    patients = PATIENTS * files // FILES
    count = files
    files_dir = folder(root, count)
    manifest = files_dir.parent / "manifest.json"
    if manifest.exists():
        try:
            if json.loads(manifest.read_text()).get("generation") == GENERATION:
                return files_dir
        except (OSError, ValueError):
            pass
    if files_dir.parent.exists():
        shutil.rmtree(files_dir.parent)
    started = time.perf_counter()
    log(f"generating {count} files in {files_dir} (once; about {count // 500} s)")
    for plan in plans(files_dir, patients):
        write_series(plan)
    manifest.write_text(json.dumps({"generation": GENERATION, "files": count}))
    log(f"scale data ready in {time.perf_counter() - started:.0f} s")
    return files_dir


def plans(root: Path, patients: int = PATIENTS) -> Iterator[SeriesPlan]:
    """Every series of the folder, in writing order."""
    for p in range(patients):
        family, given = _FAMILY[p % len(_FAMILY)], _GIVEN[p // len(_FAMILY) % len(_GIVEN)]
        patient_id = f"SCALE-{p + 1:04d}"
        patient_dir = f"{patient_id}_{family.upper()}"
        for s in range(STUDIES_PER_PATIENT):
            modality, description, series_names = _PROTOCOLS[(p + s) % len(_PROTOCOLS)]
            date = f"{2019 + s * 2 + p % 3}{1 + p % 12:02d}{1 + (p * 7 + s) % 28:02d}"
            study_dir = f"{date}_{description.replace(' ', '_')}"
            for r in range(SERIES_PER_STUDY):
                yield SeriesPlan(
                    folder=root / patient_dir / study_dir / f"SE{r + 1:03d}",
                    patient=p,
                    study=s,
                    series=r,
                    modality=modality,
                    patient_id=patient_id,
                    patient_name=f"{family}^{given}",
                    study_date=date,
                    study_description=description,
                    series_description=series_names[r],
                )


def _uid(*parts: object) -> str:
    """A deterministic UID (the same folder content on every machine)."""
    return generate_uid(entropy_srcs=["dcmview-bench-scale", *map(str, parts)])


def _header(plan: SeriesPlan) -> Dataset:
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = _CT_IMAGE if plan.modality == "CT" else _MR_IMAGE
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = plan.study_date
    ds.StudyTime = f"{8 + plan.patient % 10:02d}{15 * plan.study:02d}00"
    ds.AccessionNumber = f"ACC{plan.patient:04d}{plan.study}"
    ds.Modality = plan.modality
    ds.Manufacturer = "dcmview-bench"
    ds.InstitutionName = "Scale General Hospital"
    ds.ReferringPhysicianName = "Referring^Doctor"
    ds.StudyDescription = plan.study_description
    ds.SeriesDescription = plan.series_description
    ds.PatientName = plan.patient_name
    ds.PatientID = plan.patient_id
    ds.PatientBirthDate = f"{1940 + plan.patient % 50}0{1 + plan.patient % 9}15"
    ds.PatientSex = "FM"[plan.patient % 2]
    ds.BodyPartExamined = plan.study_description.split()[1]
    ds.SliceThickness = 3.0
    ds.StudyInstanceUID = _uid(plan.patient, plan.study)
    ds.SeriesInstanceUID = _uid(plan.patient, plan.study, plan.series)
    ds.StudyID = str(plan.study + 1)
    ds.SeriesNumber = plan.series + 1
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.FrameOfReferenceUID = _uid(plan.patient, plan.study, "frame")
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ds.Columns = SIZE
    ds.PixelSpacing = [0.8, 0.8]
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.PixelRepresentation = 0
    if plan.modality == "CT":
        ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
        ds.WindowCenter, ds.WindowWidth = 40, 400
    else:
        ds.WindowCenter, ds.WindowWidth = 600, 1200
    return ds


def write_series(plan: SeriesPlan) -> None:
    """Write the SLICES files of one series: an ellipse whose size changes along the stack."""
    ds = _header(plan)
    y, x = np.mgrid[-1 : 1 : SIZE * 1j, -1 : 1 : SIZE * 1j]
    body = (x / 0.9) ** 2 + (y / 0.75) ** 2 < 1
    base = np.where(body, 1064 if plan.modality == "CT" else 500, 24).astype(np.uint16)
    plan.folder.mkdir(parents=True, exist_ok=True)
    for i in range(SLICES):
        t = i / (SLICES - 1)
        organ = (x / (0.2 + 0.3 * t)) ** 2 + ((y - 0.1) / 0.25) ** 2 < 1
        pixels = base + np.where(organ, 300 + 5 * plan.series, 0).astype(np.uint16)
        ds.SOPInstanceUID = _uid(plan.patient, plan.study, plan.series, i)
        ds.InstanceNumber = i + 1
        ds.ImagePositionPatient = [-25.6, -25.6, 3.0 * i]
        ds.SliceLocation = 3.0 * i
        ds.PixelData = pixels.tobytes()
        write_part10(ds, plan.folder / f"IM{i + 1:04d}.dcm", ExplicitVRLittleEndian)


if __name__ == "__main__":
    print(ensure())
