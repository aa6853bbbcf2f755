"""Reduced-resolution first paint (issue 14): JPEG 2000 and HTJ2K frames decoded at 1/2^n of
each side give the same picture as the full decode, smaller; other frames are served whole."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dcmview.core.codestream import j2k_facts
from dcmview.core.discovery import read_record
from dcmview.core.frames import decode_frame
from dcmview.core.reduced import reduced_frame

from . import dicomgen as gen
from .transports import DOORS, door

ROWS, COLUMNS = 250, 190  # not multiples of 4: reduced sizes round up
J2K, HTJ2K = gen.JPEG2000Lossless, gen.HTJ2KLossless
J2K_LOSSY = "1.2.840.10008.1.2.4.91"
WINDOW = "wc=2048&ww=4096"


def block_means(full: np.ndarray, level: int, shape: tuple[int, ...]) -> np.ndarray:
    """The full image averaged over 2^level blocks (edge blocks over what they hold)."""
    k = 2**level
    rows, columns = shape[0], shape[1]
    padded = np.full((rows * k, columns * k, *full.shape[2:]), np.nan)
    padded[: full.shape[0], : full.shape[1]] = full
    blocks = padded.reshape(rows, k, columns, k, *full.shape[2:])
    return np.nanmean(blocks, axis=(1, 3))


def record_of(path: Path):
    record, _, reason = read_record(str(path))
    assert record is not None, reason
    return record


@pytest.mark.parametrize("syntax", [J2K, J2K_LOSSY, HTJ2K])
@pytest.mark.parametrize(
    ("kind", "dtype", "bits_stored"),
    [
        ("u12", np.uint16, 12),
        ("u16", np.uint16, None),
        ("s16", np.int16, None),
        ("s12", np.int16, 12),
        ("u8", np.uint8, None),
    ],
)
def test_reduced_frame_holds_the_stored_values_of_the_full_decode(
    tmp_path: Path, syntax: str, kind: str, dtype, bits_stored: int | None
) -> None:
    if syntax == HTJ2K and not gen.HAS_IMAGECODECS:
        pytest.skip("imagecodecs is needed to write HTJ2K")
    pixels = gen.phantom(ROWS, COLUMNS, dtype=dtype, bits_stored=bits_stored)
    path = gen.write_image(
        tmp_path / f"{kind}.dcm", pixels, transfer_syntax=syntax, bits_stored=bits_stored
    )
    record = record_of(path)
    full = decode_frame(record, 0)
    reduced = reduced_frame(record, 0, 2)
    assert reduced is not None
    small, level = reduced
    assert level == 2
    assert small.shape == (63, 48) and small.dtype == full.dtype
    # Pillow's scaling and sign shift undone: within 2 % of the range of a box-filtered full
    # frame (a wrong shift is off by 4x or more, a wrong sign by half the range).
    spread = float(full.max()) - float(full.min())
    error = np.abs(block_means(full.astype(float), 2, small.shape) - small).mean()
    assert error < 0.02 * spread, (error, spread)


def test_reduced_colour_frame_is_rgb(tmp_path: Path) -> None:
    pixels = gen.colour_phantom(ROWS, COLUMNS)
    path = gen.write_image(tmp_path / "rgb.dcm", pixels, transfer_syntax=J2K, photometric="RGB")
    record = record_of(path)
    reduced = reduced_frame(record, 0, 1)
    assert reduced is not None and reduced[0].shape == (125, 95, 3)
    error = np.abs(block_means(decode_frame(record, 0).astype(float), 1, (125, 95)) - reduced[0])
    assert error.mean() < 5


def test_level_is_capped_by_the_codestream(tmp_path: Path) -> None:
    path = gen.write_image(tmp_path / "j.dcm", gen.phantom(ROWS, COLUMNS), transfer_syntax=J2K)
    record = record_of(path)
    from dcmview.core import encapsulated

    with open(path, "rb") as fp:
        facts = j2k_facts(encapsulated.frame_bytes(record, 0, fp))
    assert facts is not None
    assert (facts.rows, facts.columns, facts.components) == (ROWS, COLUMNS, 1)
    assert facts.precision == 16 and not facts.signed and facts.levels >= 1
    reduced = reduced_frame(record, 0, 8)
    assert reduced is not None and reduced[1] == min(8, facts.levels)


def test_frames_of_other_codecs_are_not_reduced(tmp_path: Path) -> None:
    native = gen.write_image(tmp_path / "n.dcm", gen.phantom(ROWS, COLUMNS))
    rle = gen.write_syntax(tmp_path, gen.RLELossless, size=(ROWS, COLUMNS)).path
    palette = gen.write_palette(tmp_path).path
    for path in (native, rle, palette):
        assert reduced_frame(record_of(path), 0, 2) is None


def test_codestream_facts_of_damaged_data_are_none() -> None:
    assert j2k_facts(b"") is None
    assert j2k_facts(b"\xff\x4f\xff\x51\x00\x29" + b"\x00" * 10) is None
    assert j2k_facts(b"\xff\xd8\xff\xe0") is None


# -- through the API ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("reduced")
    pixels = gen.phantom(ROWS, COLUMNS, bits_stored=12)
    gen.write_image(root / "j2k.dcm", pixels, transfer_syntax=J2K, bits_stored=12)
    gen.write_image(root / "native.dcm", pixels, bits_stored=12)
    gen.write_image(
        root / "shuttered.dcm",
        pixels,
        transfer_syntax=J2K,
        bits_stored=12,
        extra={
            "ShutterShape": "CIRCULAR",
            "CenterOfCircularShutter": [125, 95],
            "RadiusOfCircularShutter": 60,
            "ShutterPresentationValue": 65535,
        },
    )
    return root


@pytest.fixture(scope="module", params=DOORS)
def server(request: pytest.FixtureRequest, folder: Path):
    """The API through one of its doors (each with a session of its own)."""
    with door(request.param, [str(folder)]) as client:
        yield client


@pytest.fixture(scope="module")
def index_of(server):
    files = server.get("api/files").json()["files"]
    by_name = {Path(f["path"]).name: f["index"] for f in files}
    return lambda name: by_name[name]


def _picture(reply) -> np.ndarray:
    assert reply.status == 200, reply.body[:300]
    return np.asarray(Image.open(io.BytesIO(reply.body))).astype(float)


def test_reduced_png_is_the_full_png_downscaled(server, index_of) -> None:
    i = index_of("j2k.dcm")
    reply = server.get(f"api/file/{i}/frame/0?reduce=2&{WINDOW}")
    assert reply.header("X-Frame-Reduce") == "2"
    small = _picture(reply)
    assert small.shape == (63, 48)
    full_reply = server.get(f"api/file/{i}/frame/0?{WINDOW}")
    assert full_reply.header("X-Frame-Reduce") is None
    full = _picture(full_reply)
    assert full.shape == (ROWS, COLUMNS)
    assert np.abs(block_means(full, 2, small.shape) - small).mean() < 3


def test_raw_stays_full_after_a_reduced_picture(server, index_of, folder: Path) -> None:
    i = index_of("j2k.dcm")
    assert server.get(f"api/file/{i}/frame/0?reduce=3").status == 200
    raw = server.get(f"api/file/{i}/frame/0/raw")
    assert raw.header("X-Frame-Rows") == str(ROWS)
    assert len(raw.body) == ROWS * COLUMNS * 2


def test_a_frame_that_cannot_be_reduced_is_served_whole(server, index_of) -> None:
    reply = server.get(f"api/file/{index_of('native.dcm')}/frame/0?reduce=2")
    assert reply.header("X-Frame-Reduce") is None
    assert _picture(reply).shape == (ROWS, COLUMNS)


def test_reduced_png_carries_the_shutter(server, index_of) -> None:
    i = index_of("shuttered.dcm")
    small = _picture(server.get(f"api/file/{i}/frame/0?reduce=1"))
    assert small.shape == (125, 95)
    r = np.arange(125)[:, None] * 2 + 1.5  # 1-based centre of each 2x2 block
    c = np.arange(95)[None, :] * 2 + 1.5
    distance = np.hypot(r - 125, c - 95)
    assert (small[distance > 62] == 255).all()
    assert (small[distance < 58] != 255).any()


@pytest.mark.parametrize("value", ["-1", "9", "two", "1.5"])
def test_reduce_takes_a_small_whole_number(server, index_of, value: str) -> None:
    reply = server.get(f"api/file/{index_of('j2k.dcm')}/frame/0?reduce={value}")
    assert reply.status == 400 and reply.json()["code"] == "invalid_query"
    assert "reduce" in reply.json()["error"]


def test_a_redaction_box_covers_every_reduced_pixel_it_touches(tmp_path: Path) -> None:
    from dcmview.core.model import WindowRequest
    from dcmview.core.render import display_frame

    pixels = gen.phantom(ROWS, COLUMNS, dtype=np.uint16, bits_stored=12)
    pixels[:] = 3000  # no pixel is black before the box
    path = gen.write_image(tmp_path / "j2k.dcm", pixels, transfer_syntax=J2K, bits_stored=12)
    record = record_of(path)
    reduced = reduced_frame(record, 0, 2)
    assert reduced is not None
    small, level = reduced
    box = (10, 9, 30, 50)  # ymin, xmin, ymax, xmax in the full frame's pixels

    def shown(boxes: list[tuple[int, int, int, int]]) -> np.ndarray:
        request = WindowRequest(mode="full_dynamic")
        png, _ = display_frame(record, small, lambda: None, request, 0, level, boxes)
        return np.asarray(Image.open(io.BytesIO(png)))

    plain, covered = shown([]), shown([box])
    assert covered.shape == small.shape[:2]
    # Full rows 10..29 are reduced rows 2..7 (10 // 4 .. ceil(30 / 4)); columns 9..49: 2..12.
    assert (covered[2:8, 2:13] == 0).all()
    assert (plain[2:8, 2:13] != 0).all()
    outside = np.ones(covered.shape, bool)
    outside[2:8, 2:13] = False
    assert np.array_equal(covered[outside], plain[outside])
