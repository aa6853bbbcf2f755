"""Every transfer syntax the tests can encode, and big frames, through the real server."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dcmview.core.transfer_syntaxes import SUPPORTED

from . import dicomgen as gen
from .harness import DcmviewProcess

CASES = [c for c in gen.TRANSFER_SYNTAX_CASES if c.available]
# Every syntax of the product's table; HTJ2K RPCL (.202) only lacks an encoder here.
REQUIRED = {s.uid for s in SUPPORTED} - {"1.2.840.10008.1.2.4.202"}


@pytest.fixture(scope="module")
def encoded(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("syntaxes")
    written = {case.id: (case, case.write(root)) for case in CASES}
    mammo = gen.write_mammography(root)
    with DcmviewProcess("--port", "0", str(root)) as proc:
        proc.wait_scan()
        files = proc.get("api/files").json()["files"]
        index = {Path(f["path"]).stem: f for f in files}
        yield proc, written, index, mammo


def test_every_required_syntax_is_generated() -> None:
    assert {str(c.uid) for c in CASES} >= REQUIRED


@pytest.mark.parametrize("case_id", [c.id for c in CASES])
def test_syntax_decodes_frame_by_frame(encoded, case_id: str) -> None:
    proc, written, index, _ = encoded
    case, w = written[case_id]
    f = index[case_id]
    assert f["transfer_syntax_uid"] == str(case.uid)
    source = w.pixels if case.frames else w.pixels[None]
    assert f["frame_count"] == (case.frames or 1)
    for frame in range(f["frame_count"]):
        raw = proc.get(f"api/file/{f['index']}/frame/{frame}/raw")
        assert raw.status == 200, raw.body[:200]
        bits = int(raw.header("X-Frame-Bits-Allocated"))
        signed = raw.header("X-Frame-Pixel-Representation") == "1"
        got = np.frombuffer(raw.body, f"<{'i' if signed else 'u'}{bits // 8}").reshape(
            source[frame].shape
        )
        diff = np.abs(got.astype(np.int64) - source[frame].astype(np.int64))
        if case.lossless:
            assert diff.max() == 0
        else:
            assert diff.mean() <= case.tolerance
            if case.max_error is not None:
                assert diff.max() <= case.max_error
        png = proc.get(f"api/file/{f['index']}/frame/{frame}")
        assert png.status == 200
        image = Image.open(io.BytesIO(png.body))
        assert image.size == (f["columns"], f["rows"])
        assert image.mode == ("RGB" if source.ndim == 4 else "L")


def test_mammography_size_frame(encoded) -> None:
    proc, _, index, mammo = encoded
    f = index[mammo.path.stem]
    assert (f["rows"], f["columns"]) == (3000, 2500)
    raw = proc.get(f"api/file/{f['index']}/frame/0/raw")
    assert len(raw.body) == 3000 * 2500 * 2
    assert np.array_equal(np.frombuffer(raw.body, "<u2").reshape(3000, 2500), mammo.pixels)
    png = proc.get(f"api/file/{f['index']}/frame/0")
    image = Image.open(io.BytesIO(png.body))
    assert image.size == (2500, 3000) and image.mode == "L"
    assert np.asarray(image).std() > 10


@pytest.mark.parametrize("syntax", SUPPORTED, ids=lambda s: s.name)
def test_the_table_says_how_pixel_data_is_stored_as_pydicom_does(syntax) -> None:
    from pydicom.uid import UID

    from dcmview.core.transfer_syntaxes import is_deflated, is_encapsulated, native_byte_order

    uid = UID(syntax.uid)
    assert is_encapsulated(syntax.uid) == uid.is_encapsulated
    assert is_deflated(syntax.uid) == uid.is_deflated
    expected_order = (
        None if uid.is_encapsulated or uid.is_deflated else "<>"[not uid.is_little_endian]
    )
    assert native_byte_order(syntax.uid) == expected_order


def test_an_unknown_syntax_is_taken_as_encapsulated() -> None:
    from dcmview.core.transfer_syntaxes import is_encapsulated, native_byte_order

    assert is_encapsulated("1.2.3.4") and native_byte_order("1.2.3.4") is None
