"""Reduced-resolution decodes of JPEG 2000 and HTJ2K frames, for a fast first paint.

A JPEG 2000 codestream holds its image at every resolution level of its wavelet transform;
decoding only the lower levels costs a fraction of a full decode (a 3328x2560 12-bit frame:
~1.3 s whole, ~75 ms at level 2, a quarter of each side, ~15 ms at level 3). pylibjpeg's
decoder cannot stop early; Pillow's JPEG 2000 plugin (OpenJPEG too) can, through its ``reduce``
attribute. The viewer paints such a frame first, then the full one when it arrives.

Pillow scales samples to its own modes (8 or 16 bits) and shifts signed ones to unsigned: both
are undone here, so the reduced frame holds stored values like the full one, and the display
pipeline (rescale, window, MONOCHROME1) applies to it unchanged. Frames this module is not sure
to read exactly so (more than 16 bits, colour deeper than 8, a sign the codestream and the
header disagree on, palette indices, which do not average) are not reduced: the caller decodes
them whole.
"""

from __future__ import annotations

import io
import warnings

import numpy as np

from . import encapsulated
from .codestream import J2kFacts, j2k_facts
from .fileio import open_record
from .model import FileRecord

# JPEG 2000 (lossless and not) and HTJ2K (lossless, lossless RPCL, and not).
REDUCIBLE_SYNTAXES = frozenset(
    {
        "1.2.840.10008.1.2.4.90",
        "1.2.840.10008.1.2.4.91",
        "1.2.840.10008.1.2.4.201",
        "1.2.840.10008.1.2.4.202",
        "1.2.840.10008.1.2.4.203",
    }
)
# Levels a request may ask for: 1/2 to 1/256 of each side.
MAX_LEVEL = 8


def reducible(record: FileRecord) -> bool:
    """Can ``record``'s frames be decoded at reduced resolution (as far as its header says)?"""
    layout = record.layout
    return (
        layout is not None
        and record.pixel_problem is None
        and record.pixel_data_offset is not None
        and record.transfer_syntax_uid in REDUCIBLE_SYNTAXES
        and layout.photometric != "PALETTE COLOR"
        and (layout.samples_per_pixel == 1 or layout.bits_allocated == 8)
    )


def reduced_frame(record: FileRecord, frame: int, level: int) -> tuple[np.ndarray, int] | None:
    """``frame`` decoded at 1/2^n of each side (rounded up), n = ``level`` or the codestream's
    own number of levels when it has fewer; and n. None when it cannot be (see the module):
    the caller then decodes the frame whole, which also reports a damaged one.

    The array is what the full decode gives, smaller: stored values, (rows, columns) grey in
    the header's Bits Allocated and Pixel Representation, or (rows, columns, 3) RGB.
    """
    layout = record.layout
    if layout is None or not reducible(record) or level < 1:
        return None
    try:
        with open_record(record) as fp:
            data = encapsulated.frame_bytes(record, frame, fp)
    except Exception:  # the full decode reports what is wrong with the file
        return None
    facts = j2k_facts(data)
    if facts is None or not _readable(record, facts):
        return None
    level = min(level, facts.levels, MAX_LEVEL)
    if level < 1:
        return None
    try:
        # The plugin itself, not Image.open: that imports every Pillow plugin on first use
        # (~100 ms, more than the decode).
        from PIL.Jpeg2KImagePlugin import Jpeg2KImageFile

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            picture = Jpeg2KImageFile(io.BytesIO(data))
            picture.reduce = level
            picture.load()
    except Exception:  # Pillow's reasons (a damaged stream, its pixel limit): decode whole
        return None
    return _stored(np.asarray(picture), picture.mode, facts, record), level


def _readable(record: FileRecord, facts: J2kFacts) -> bool:
    """Does the codestream describe what the header does, in a form Pillow reads exactly?"""
    layout = record.layout
    assert layout is not None
    if facts.rows > layout.rows or facts.columns > layout.columns:
        return False  # declares more than the header: the full decode refuses it
    if facts.components != layout.samples_per_pixel:
        return False
    if facts.components == 3:
        return facts.precision == 8 and not facts.signed
    return facts.precision <= 16 and facts.signed == (layout.pixel_representation == 1)


def _stored(pixels: np.ndarray, mode: str, facts: J2kFacts, record: FileRecord) -> np.ndarray:
    """Pillow's samples back to stored values in the dtype of a full decode."""
    layout = record.layout
    assert layout is not None
    if facts.components == 3:
        return np.ascontiguousarray(pixels[..., :3], dtype=np.uint8)
    bits = 8 if mode == "L" else 16  # Pillow's L or I;16: samples shifted up to fill them
    values = pixels.astype(np.int32) >> (bits - facts.precision)
    if facts.signed:
        values -= 1 << (facts.precision - 1)  # Pillow shows signed samples shifted to unsigned
    kind = "i" if layout.pixel_representation == 1 else "u"
    dtype = np.dtype(f"<{kind}{max(1, layout.bits_allocated // 8)}")
    return np.ascontiguousarray(values.astype(dtype))
