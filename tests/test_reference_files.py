"""Every frame of pydicom's test files (and pydicom-data) through the real server.

The reference for each frame is pydicom itself: where ``pixel_array(path, index=f)`` decodes,
``/raw`` must return exactly those samples and ``/frame`` a PNG of the right size and mode;
where pydicom cannot decode it, both must answer 422 with a stable code, never 500.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.pixels import pixel_array

from .harness import DcmviewProcess


def _reference(path: str, frame: int) -> np.ndarray | None:
    """pydicom's answer for one frame: from the whole dataset, else from its frame-by-frame
    path reader (which copes with files truncated after the frame); None if both fail."""
    readers = (
        lambda: pixel_array(pydicom.dcmread(path), index=frame),
        lambda: pixel_array(path, index=frame),
    )
    for read in readers:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                arr = read()
        except Exception:
            continue
        return arr.astype(arr.dtype.newbyteorder("<"))
    return None


def _raw_array(reply) -> np.ndarray:
    bits = int(reply.header("X-Frame-Bits-Allocated"))
    signed = reply.header("X-Frame-Pixel-Representation") == "1"
    rows, cols = int(reply.header("X-Frame-Rows")), int(reply.header("X-Frame-Columns"))
    spp = int(reply.header("X-Frame-Samples-Per-Pixel"))
    arr = np.frombuffer(reply.body, dtype=f"<{'i' if signed else 'u'}{bits // 8}")
    return arr.reshape((rows, cols, spp) if spp > 1 else (rows, cols))


def test_every_frame_of_every_reference_file(reference_server: DcmviewProcess) -> None:
    files = reference_server.get("api/files").json()["files"]
    pixel_files = [f for f in files if f["has_pixels"]]
    assert len(pixel_files) > 100
    served = decoded = refused = 0
    for f in pixel_files:
        for frame in range(max(f["frame_count"], 1)):
            expected = _reference(f["path"], frame)
            raw = reference_server.get(f"api/file/{f['index']}/frame/{frame}/raw")
            png = reference_server.get(f"api/file/{f['index']}/frame/{frame}")
            served += 1
            if expected is None:
                assert raw.status == 422, (f["path"], frame, raw.status)
                assert png.status == 422, (f["path"], frame, png.status)
                assert raw.json()["code"] in ("pixel_decode_failed", "unsupported_transfer_syntax")
                refused += 1
                continue
            assert raw.status == 200, (f["path"], frame, raw.body[:200])
            assert png.status == 200, (f["path"], frame, png.body[:200])
            got = _raw_array(raw)
            assert got.shape == expected.shape, f["path"]
            assert np.array_equal(got, expected), f["path"]
            image = Image.open(io.BytesIO(png.body))
            assert image.size == (f["columns"], f["rows"])
            assert image.mode == ("RGB" if expected.ndim == 3 or _palette(raw) else "L")
            decoded += 1
    assert decoded > 300 and served == decoded + refused


def _palette(reply) -> bool:
    return reply.header("X-Frame-Photometric-Interpretation") == "PALETTE COLOR"


@pytest.mark.parametrize("name", ["MR_truncated.dcm", "JPEG2000-embedded-sequence-delimiter.dcm"])
def test_broken_pixel_data_answers_422_and_the_server_lives(
    reference_server: DcmviewProcess, name: str
) -> None:
    files = reference_server.get("api/files").json()["files"]
    index = next(f["index"] for f in files if f["path"].endswith("/" + name))
    for suffix in ("", "/raw"):
        reply = reference_server.get(f"api/file/{index}/frame/0{suffix}")
        assert reply.status == 422
        body = reply.json()
        assert body["code"] == "pixel_decode_failed"
        assert "Traceback" not in body["error"] and "/" not in body["error"]
    assert reference_server.get("api/health").status == 200


def test_files_without_pixels_are_listed_and_answer_404(reference_server: DcmviewProcess) -> None:
    files = reference_server.get("api/files").json()["files"]
    rtplan = next(f for f in files if f["path"].endswith("/rtplan.dcm"))
    assert rtplan["has_pixels"] is False and rtplan["frame_count"] == 0
    reply = reference_server.get(f"api/file/{rtplan['index']}/frame/0")
    assert reply.status == 404 and reply.json()["code"] == "no_pixel_data"
    tags = reference_server.get(f"api/file/{rtplan['index']}/tags").json()
    assert any(t["keyword"] == "BeamSequence" and t["value"]["type"] == "sequence" for t in tags)


def test_non_dicom_files_are_reported_as_skipped(reference_server: DcmviewProcess) -> None:
    listing = reference_server.get("api/files").json()
    skipped = {e["path"].rsplit("/", 1)[-1]: e for e in listing["discovery"]}
    assert skipped["README.txt"]["disposition"] == "skipped"
    assert "not a DICOM file" in skipped["README.txt"]["reason"]
    assert listing["skipped"] == sum(
        1 for e in listing["discovery"] if e["disposition"] == "skipped"
    )
    assert listing["scanned"] == len(listing["files"]) + len(listing["discovery"])
