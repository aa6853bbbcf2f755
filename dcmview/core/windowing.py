"""Grey-level pipeline: stored values -> modality values -> window -> 8-bit display.

Pure functions over numpy arrays. The order is the DICOM one (PS3.4 N.2): the Modality LUT or
rescale first, then the VOI transform (a linear window or a VOI LUT), then MONOCHROME1 inversion.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from .model import Window

# Rows per chunk when converting large frames: keeps float32 temporaries small and cache friendly.
_CHUNK_ROWS = 256
# Pixels per block of the frame-wide passes (modality values, histogram, display): every
# temporary is a few MiB, whatever the frame. Whole-frame float32 and int64 copies of a
# 16384² frame were 1 and 2 GiB.
BLOCK_PIXELS = 1 << 20
# Pixels per block of the linear display (see _linear_display): a 256 KiB float32 buffer, small
# enough to stay in cache (1 MiB was slower on the first frame and no faster after).
_FUSED_PIXELS = 1 << 16


@dataclass(frozen=True)
class VoiLut:
    """A VOI LUT: ``first_mapped`` is the input value of entry 0, ``bits`` the output depth."""

    first_mapped: int
    bits: int
    data: np.ndarray


@dataclass(frozen=True)
class WindowChoice:
    """The VOI transform chosen for one frame; ``applied`` names it for response headers."""

    applied: str  # "linear" | "voi_lut" | "full_dynamic"
    window: Window | None
    lut: VoiLut | None = None


@dataclass(frozen=True)
class Modality:
    """Stored values to modality values, one block at a time: through the Modality LUT when
    there is one, else by Rescale Slope and Intercept. Call it on any block of rows."""

    slope: float = 1.0
    intercept: float = 0.0
    lut: VoiLut | None = None

    @property
    def linear(self) -> tuple[float, float] | None:
        """``(slope, intercept)`` when the values are a linear map of the stored ones."""
        return None if self.lut is not None else (self.slope, self.intercept)

    def __call__(self, stored: np.ndarray) -> np.ndarray:
        if self.lut is not None:
            return apply_modality_lut(stored, self.lut)
        return rescale(stored, self.slope, self.intercept)


def blocks(arr: np.ndarray) -> Iterator[slice]:
    """Slices of ``arr``'s rows holding about :data:`BLOCK_PIXELS` pixels each."""
    per_row = max(1, arr.size // max(1, arr.shape[0])) if arr.ndim else 1
    step = max(1, BLOCK_PIXELS // per_row)
    for start in range(0, arr.shape[0] if arr.ndim else 1, step):
        yield slice(start, start + step)


def rescale(stored: np.ndarray, slope: float, intercept: float) -> np.ndarray:
    """Stored values to modality values (float32) by Rescale Slope and Intercept."""
    out = stored.astype(np.float32)
    if slope != 1.0:
        out *= np.float32(slope)
    if intercept != 0.0:
        out += np.float32(intercept)
    return out


def apply_modality_lut(stored: np.ndarray, lut: VoiLut) -> np.ndarray:
    """Stored values to modality values through a Modality LUT (clamped at both ends)."""
    out = np.empty(stored.shape, dtype=np.float32)
    table = lut.data.astype(np.float32, copy=False)
    for rows in blocks(stored):
        idx = np.clip(stored[rows].astype(np.int64) - lut.first_mapped, 0, len(table) - 1)
        np.take(table, idx, out=out[rows])
    return out


def full_dynamic_window(values: np.ndarray, modality: Modality | None = None) -> Window:
    """The window spanning the frame's minimum to maximum modality value. With ``modality``,
    ``values`` holds the stored values and is mapped a block at a time (or only its extremes,
    when the map is linear)."""
    if modality is None:
        lo, hi = float(np.min(values)), float(np.max(values))
    elif modality.linear is not None:
        ends = modality(np.array([np.min(values), np.max(values)], dtype=values.dtype))
        lo, hi = float(ends.min()), float(ends.max())
    else:
        ranges = [(float(m.min()), float(m.max())) for m in map(modality, _each_block(values))]
        lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
    return Window(center=(lo + hi) / 2.0, width=max(hi - lo, 1.0))


def _each_block(arr: np.ndarray) -> Iterator[np.ndarray]:
    return (arr[rows] for rows in blocks(arr))


def percentile_window(
    values: np.ndarray | Callable[[], np.ndarray],
    padding: tuple[int, int] | None = None,
    stored: np.ndarray | None = None,
    rescale: tuple[float, float] | None = None,
) -> Window:
    """A window from the 1st to the 99th percentile, ignoring Pixel Padding values.

    ``padding`` is the inclusive range of padding values in *stored* units, matched against
    ``stored`` (the array before rescale). When ``values`` is ``stored * slope + intercept``
    (``rescale``) and ``stored`` holds integers of at most 16 bits, the percentiles are read
    from a histogram of the stored values (exactly numpy's linear method, ~4x faster).
    ``values`` may be a function that makes them: it is called only when they are needed.
    """
    if stored is not None and rescale is not None and _histogram_ok(stored):
        found = _integer_percentiles(stored, (1.0, 99.0), padding)
        if found is not None:
            slope, intercept = rescale
            a, b = (v * slope + intercept for v in found)
            p1, p99 = min(a, b), max(a, b)
            return Window(center=(p1 + p99) / 2.0, width=max(p99 - p1, 1.0))
    sample = values() if callable(values) else values
    if padding is not None and stored is not None:
        lo, hi = padding
        keep = (stored < lo) | (stored > hi)
        if keep.any():
            sample = sample[keep]
    p1, p99 = np.percentile(sample, [1.0, 99.0])
    p1, p99 = float(p1), float(p99)
    return Window(center=(p1 + p99) / 2.0, width=max(p99 - p1, 1.0))


def _histogram_ok(stored: np.ndarray) -> bool:
    return stored.dtype.kind in "ui" and stored.dtype.itemsize <= 2 and stored.size > 0


def _integer_percentiles(
    stored: np.ndarray, qs: tuple[float, ...], padding: tuple[int, int] | None
) -> list[float] | None:
    """numpy's default (linear) percentiles of integer data, from its histogram; padding values
    are left out unless nothing else remains. None when there is nothing to measure."""
    flat = stored.ravel()
    lo, hi = int(flat.min()), int(flat.max())
    # bincount casts its input to int64: counted a block at a time, not as one 8-byte copy.
    counts = np.zeros(hi - lo + 1, dtype=np.int64)
    for start in range(0, flat.size, BLOCK_PIXELS):
        part = flat[start : start + BLOCK_PIXELS]
        shifted = part.astype(np.int32) - lo if lo < 0 else (part - lo if lo else part)
        counts += np.bincount(shifted, minlength=len(counts))
    if padding is not None:
        a, b = max(padding[0] - lo, 0), min(padding[1] - lo, len(counts) - 1)
        if a <= b:
            kept = counts.copy()
            kept[a : b + 1] = 0
            if kept.any():
                counts = kept
    cumulative = np.cumsum(counts)
    n = int(cumulative[-1])
    if n == 0:
        return None

    def value_at(k: int) -> int:
        return lo + int(np.searchsorted(cumulative, k, side="right"))

    out = []
    for q in qs:
        pos = q / 100.0 * (n - 1)
        k = int(np.floor(pos))
        frac = pos - k
        low = value_at(k)
        high = value_at(k + 1) if frac > 0 and k + 1 < n else low
        out.append(low + frac * (high - low))
    return out


def linear_to_uint8(values: np.ndarray, window: Window) -> np.ndarray:
    """Apply the DICOM linear window function (PS3.3 C.11.2.1.2.1) and map to 0..255."""
    c = np.float32(window.center)
    w = np.float32(window.width)
    out = np.empty(values.shape, dtype=np.uint8)
    if w <= 1:
        # Width 1 is a threshold at the centre.
        np.copyto(out, np.where(values > c - 0.5, 255, 0).astype(np.uint8))
        return out
    scale, offset = _linear_terms(window)
    flat_in = values.reshape(values.shape[0], -1) if values.ndim > 1 else values.reshape(1, -1)
    flat_out = out.reshape(flat_in.shape)
    for start in range(0, flat_in.shape[0], _CHUNK_ROWS):
        chunk = flat_in[start : start + _CHUNK_ROWS].astype(np.float32, copy=True)
        chunk -= offset
        chunk *= scale
        np.clip(chunk, 0, 255, out=chunk)
        flat_out[start : start + _CHUNK_ROWS] = chunk + np.float32(0.5)
    return out


def _linear_terms(window: Window) -> tuple[np.floating, np.floating]:
    """``(scale, offset)`` of the linear window for a width over 1: display value
    ``clip((x - offset) * scale, 0, 255) + 0.5``, truncated to 8 bits, all in float32."""
    c = np.float32(window.center)
    w = np.float32(window.width)
    return np.float32(255.0) / (w - 1), (c - np.float32(0.5)) - (w - 1) / 2


def _linear_display(
    values: np.ndarray, window: Window, modality: Modality | None, out: np.ndarray
) -> None:
    """:func:`to_display` for a linear window over 1 wide and a linear (or no) modality
    map, into ``out``: the same float32 operations, in one buffer of :data:`_FUSED_PIXELS`
    reused for every block, instead of a float32 copy of each block for the rescale, another
    for the window and a third for the rounding. On a fresh server every new temporary costs
    a page fault per 4 KiB: the 7.5 MP display of a 3000x2500 frame took ~60 ms of CPU where
    the same work on warm memory takes ~15 ms."""
    scale, offset = _linear_terms(window)
    slope, intercept = modality.linear if modality is not None and modality.linear else (1, 0)
    flat_in = values.reshape(-1)
    flat_out = out.reshape(-1)
    buffer = np.empty(min(flat_in.size, _FUSED_PIXELS), dtype=np.float32)
    for start in range(0, flat_in.size, _FUSED_PIXELS):
        part = flat_in[start : start + _FUSED_PIXELS]
        work = buffer[: part.size]
        np.copyto(work, part, casting="unsafe")  # = astype(np.float32)
        if modality is not None:  # = rescale()
            if slope != 1.0:
                work *= np.float32(slope)
            if intercept != 0.0:
                work += np.float32(intercept)
        work -= offset
        work *= scale
        np.clip(work, 0, 255, out=work)
        work += np.float32(0.5)
        np.copyto(flat_out[start : start + _FUSED_PIXELS], work, casting="unsafe")


def voi_lut_to_uint8(values: np.ndarray, lut: VoiLut) -> np.ndarray:
    """Apply a VOI LUT and scale its output range to 0..255."""
    idx = np.clip(np.rint(values).astype(np.int64) - lut.first_mapped, 0, len(lut.data) - 1)
    top = float((1 << lut.bits) - 1) if lut.bits > 0 else float(np.max(lut.data) or 1)
    mapped = lut.data[idx].astype(np.float32) * np.float32(255.0 / top)
    return np.clip(mapped + 0.5, 0, 255).astype(np.uint8)


def to_display(
    values: np.ndarray, choice: WindowChoice, monochrome1: bool, modality: Modality | None = None
) -> np.ndarray:
    """Modality values to the 8-bit image a person sees (MONOCHROME1 shown inverted). With
    ``modality``, ``values`` holds the stored values, mapped a block at a time on the way."""
    out = np.empty(values.shape, dtype=np.uint8)
    window = choice.window
    if (
        choice.lut is None
        and window is not None
        and np.float32(window.width) > 1  # as linear_to_uint8 decides
        and (modality is None or modality.linear is not None)
        and values.flags.c_contiguous
    ):
        _linear_display(values, window, modality, out)
        if monochrome1:
            np.subtract(255, out, out=out)
        return out
    for rows in blocks(values):
        block = values[rows] if modality is None else modality(values[rows])
        if choice.lut is not None:
            out[rows] = voi_lut_to_uint8(block, choice.lut)
        else:
            assert choice.window is not None
            out[rows] = linear_to_uint8(block, choice.window)
    if monochrome1:
        np.subtract(255, out, out=out)
    return out


def colour_to_uint8(rgb: np.ndarray, bits_stored: int) -> np.ndarray:
    """Scale RGB samples of any depth to 8 bits per channel."""
    if rgb.dtype == np.uint8:
        return rgb
    shift = max(0, min(bits_stored, rgb.dtype.itemsize * 8) - 8)
    out = np.empty(rgb.shape, dtype=np.uint8)
    for rows in blocks(rgb):
        np.clip(rgb[rows] >> shift, 0, 255, out=out[rows], casting="unsafe")
    return out
