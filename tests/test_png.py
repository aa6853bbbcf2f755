"""The PNG writer: what it writes is what any decoder reads back."""

from __future__ import annotations

import io
import zlib

import numpy as np
import pytest
from PIL import Image

from dcmview.core import png
from dcmview.core.png import encode_png


@pytest.mark.parametrize(
    "shape", [(1, 1), (3, 5), (64, 48), (257, 300), (5, 7, 3), (40, 33, 3), (9, 11, 4)]
)
def test_round_trip_through_pillow(shape: tuple[int, ...]) -> None:
    image = np.random.default_rng(len(shape) * 100 + shape[0]).integers(0, 256, shape, np.uint8)
    decoded = Image.open(io.BytesIO(encode_png(image)))
    decoded.load()
    assert decoded.mode == {2: "L", 3: "RGB", 4: "RGBA"}[shape[2] if len(shape) == 3 else 2]
    assert np.array_equal(np.asarray(decoded), image)


def test_flat_images_compress_well() -> None:
    assert len(encode_png(np.full((512, 512), 7, np.uint8))) < 2000


@pytest.mark.parametrize("bad", [np.zeros((4, 4), np.uint16), np.zeros((4, 4, 2), np.uint8)])
def test_refuses_what_it_cannot_write(bad: np.ndarray) -> None:
    with pytest.raises(ValueError):
        encode_png(bad)


@pytest.mark.parametrize("packer", [png._packer, png._packer_zlib])
def test_both_deflaters_write_a_zlib_stream(packer) -> None:
    rows = np.random.default_rng(3).integers(0, 40, (300, 200), np.uint8).cumsum(axis=1)
    data = rows.astype(np.uint8).tobytes()
    deflate = packer()
    stream = deflate.compress(memoryview(data)[:5000]) + deflate.compress(memoryview(data)[5000:])
    assert zlib.decompress(stream + deflate.flush()) == data


@pytest.mark.parametrize("shape", [(3001, 2000), (1500, 1100, 3)])
def test_images_larger_than_one_block_round_trip(shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, shape, np.uint8)
    decoded = Image.open(io.BytesIO(encode_png(image)))
    decoded.load()
    assert np.array_equal(np.asarray(decoded), image)
