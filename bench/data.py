"""The benchmark's DICOM files: generated once into a cache folder, reused by later runs.

Every file is written with pydicom (through the test suite's ``tests/dicomgen.py`` where it has
a writer). A ``manifest.json`` written last marks a complete set; a folder without it, or with
an older ``GENERATION``, is regenerated from scratch.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests import dicomgen  # noqa: E402

# Bump when the content or layout changes, so cached folders are rebuilt.
GENERATION = 2

CT_FILES = 500
CT_SERIES = 5
CT_SIZE = 256
MULTIFRAME_FRAMES = 100
BIG_SHAPE = (3000, 2500)
TOMO_FRAMES = 60
TOMO_SHAPE = (3328, 2560)
# JPEG 2000 encoding costs ~2.5 s for one 3328×2560 frame: encode this many distinct frames and
# repeat them (decoding cost per frame is unchanged, and the servers cache by index, not content).
TOMO_DISTINCT_J2K = 12

# Syntax key -> (transfer syntax UID, short label) of the 100-frame 512² files.
MULTIFRAME_SYNTAXES = {
    "native": (dicomgen.ExplicitVRLittleEndian, "uncompressed"),
    "j2k": (dicomgen.JPEG2000Lossless, "JPEG 2000 lossless"),
    "jpegls": (dicomgen.JPEGLSLossless, "JPEG-LS lossless"),
    "rle": (dicomgen.RLELossless, "RLE lossless"),
}


@dataclass(frozen=True)
class BenchData:
    """Where every generated file lives (see :func:`ensure`)."""

    root: Path

    @property
    def ct_dir(self) -> Path:
        """Folder of :data:`CT_FILES` single-frame CT slices (the scan scenario)."""
        return self.root / "ct500"

    @property
    def single(self) -> Path:
        """One small CT slice (the start-up scenario serves just this file)."""
        return self.root / "single" / "slice_001.dcm"

    def multiframe(self, syntax: str) -> Path:
        """The 100-frame 512² 16-bit file in `syntax` (a :data:`MULTIFRAME_SYNTAXES` key)."""
        return self.root / "multiframe" / f"mf512_{syntax}.dcm"

    @property
    def big(self) -> Path:
        """The 2-frame 3000×2500 16-bit uncompressed file."""
        return self.root / "big" / "big_3000x2500.dcm"

    @property
    def tomo_j2k(self) -> Path:
        """The 60-frame 3328×2560 tomosynthesis-like file, JPEG 2000 lossless."""
        return self.root / "tomo" / "tomo_j2k.dcm"

    @property
    def tomo_htj2k(self) -> Path | None:
        """The same content as HTJ2K lossless, when imagecodecs could encode it."""
        path = self.root / "tomo" / "tomo_htj2k.dcm"
        return path if path.exists() else None


def default_root() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "dcmview-bench"


def ensure(root: Path | None = None, *, log=print) -> BenchData:
    """Return the data set under `root`, generating whatever is missing or stale."""
    data = BenchData((root or default_root()).resolve())
    manifest = data.root / "manifest.json"
    if manifest.exists():
        try:
            if json.loads(manifest.read_text()).get("generation") == GENERATION:
                return data
        except (OSError, ValueError):
            pass
    if data.root.exists():
        shutil.rmtree(data.root)
    data.root.mkdir(parents=True)
    started = time.perf_counter()
    log(f"generating benchmark data in {data.root} (once; about a minute)")
    _write_ct(data)
    _write_multiframes(data, log)
    _write_big(data)
    _write_tomo(data, log)
    manifest.write_text(json.dumps({"generation": GENERATION}))
    log(f"benchmark data ready in {time.perf_counter() - started:.0f} s")
    return data


def _write_ct(data: BenchData) -> None:
    per_series = CT_FILES // CT_SERIES
    for s in range(CT_SERIES):
        dicomgen.write_ct_series(
            data.ct_dir / f"series_{s + 1}",
            count=per_series,
            size=CT_SIZE,
            patient_id=f"BENCH-CT-{s % 2 + 1}",
            series_number=s + 1,
            series_description=f"bench series {s + 1}",
        )
    dicomgen.write_ct_series(data.single.parent, count=1, size=CT_SIZE, patient_id="BENCH-ONE")


def _write_multiframes(data: BenchData, log) -> None:
    for key, (uid, label) in MULTIFRAME_SYNTAXES.items():
        log(f"  100-frame 512² {label}")
        dicomgen.write_multiframe(
            data.root / "multiframe",
            frames=MULTIFRAME_FRAMES,
            name=data.multiframe(key).name,
            transfer_syntax=uid,
            patient_id=f"BENCH-MF-{key.upper()}",
        )


def _write_big(data: BenchData) -> None:
    first = dicomgen.mammography_phantom(*BIG_SHAPE)
    stack = np.stack([first, np.roll(first, 40, axis=0)])
    dicomgen.write_image(
        data.big,
        stack,
        bits_stored=12,
        window=(2048 * 0.9, 2048),
        modality="MG",
        patient_id="BENCH-BIG",
        extra={"PixelSpacing": [0.07, 0.07]},
    )


def _tomo_frames(count: int) -> list[np.ndarray]:
    base = dicomgen.mammography_phantom(*TOMO_SHAPE)
    return [np.roll(base, 24 * i, axis=0) for i in range(count)]


def _write_tomo(data: BenchData, log) -> None:
    import openjpeg

    log(f"  60-frame 3328×2560 JPEG 2000 ({TOMO_DISTINCT_J2K} distinct frames)")
    distinct = [openjpeg.encode(f, bits_stored=12) for f in _tomo_frames(TOMO_DISTINCT_J2K)]
    encoded = [distinct[i % TOMO_DISTINCT_J2K] for i in range(TOMO_FRAMES)]
    _write_encapsulated(data.tomo_j2k, encoded, dicomgen.JPEG2000Lossless)
    if not dicomgen.HAS_IMAGECODECS:
        log("  imagecodecs missing: no HTJ2K tomosynthesis file")
        return
    import imagecodecs

    log("  60-frame 3328×2560 HTJ2K")
    frames = _tomo_frames(TOMO_FRAMES)
    encoded = [bytes(imagecodecs.htj2k_encode(f, level=0, reversible=True)) for f in frames]
    _write_encapsulated(data.root / "tomo" / "tomo_htj2k.dcm", encoded, dicomgen.HTJ2KLossless)


def _write_encapsulated(path: Path, frames: list[bytes], uid: str) -> None:
    """Write pre-encoded 12-bit grey frames as a multi-frame breast tomosynthesis image."""
    from pydicom.encaps import encapsulate

    ds = dicomgen._base_dataset(
        {
            "modality": "MG",
            "patient_id": "BENCH-TOMO",
            "sop_class_uid": "1.2.840.10008.5.1.4.1.1.13.1.3",
        },
        frames=len(frames),
    )
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = TOMO_SHAPE
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.PixelRepresentation = 0
    ds.NumberOfFrames = len(frames)
    ds.WindowCenter, ds.WindowWidth = 1843.0, 2048.0
    ds.LossyImageCompression = "00"
    ds.add_new("PixelData", "OB", encapsulate(frames, has_bot=True))
    ds["PixelData"].is_undefined_length = True
    dicomgen._save(ds, path, uid)
