"""The grey pipeline as pure functions: linear window, percentiles, VOI LUT, inversion."""

from __future__ import annotations

import numpy as np
import pytest

from dcmview.core.model import Window
from dcmview.core.windowing import (
    VoiLut,
    WindowChoice,
    colour_to_uint8,
    full_dynamic_window,
    linear_to_uint8,
    percentile_window,
    rescale,
    to_display,
)


def test_linear_window_follows_the_dicom_formula_at_its_edges() -> None:
    # c=100, w=11: below 94.5 -> 0, above 104.5 -> 255, linear between.
    x = np.array([[94.0, 94.5, 95.0, 99.5, 104.5, 105.0]], dtype=np.float32)
    out = linear_to_uint8(x, Window(100, 11))
    assert out[0, 0] == 0 and out[0, 1] == 0
    assert out[0, -1] == 255
    assert 120 <= out[0, 3] <= 135
    assert np.all(np.diff(out[0].astype(int)) >= 0)


def test_width_one_is_a_threshold() -> None:
    x = np.array([[9.0, 9.6, 10.0, 11.0]], dtype=np.float32)
    assert linear_to_uint8(x, Window(10, 1)).tolist() == [[0, 255, 255, 255]]


def test_large_frames_are_converted_in_chunks_identically() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(0, 500, (700, 300)).astype(np.float32)
    w = Window(40, 400)
    out = linear_to_uint8(x, w)
    ref = np.clip(np.floor((x - (40 - 0.5 - 399 / 2)) * (255 / 399) + 0.5), 0, 255)
    assert np.abs(out.astype(int) - ref.astype(int)).max() <= 1


def test_rescale_and_full_dynamic() -> None:
    values = rescale(np.array([[0, 1000]], dtype=np.uint16), 2.0, -1024.0)
    assert values.dtype == np.float32 and values.tolist() == [[-1024.0, 976.0]]
    assert full_dynamic_window(values) == Window(-24.0, 2000.0)


def test_percentile_window_ignores_padding_range() -> None:
    stored = np.arange(1000, dtype=np.int16).reshape(10, 100)
    stored[0, :50] = -2000
    w = percentile_window(stored.astype(np.float32), (-2000, -2000), stored)
    kept = stored[stored != -2000].astype(float)
    p1, p99 = np.percentile(kept, [1, 99])
    assert w.center == pytest.approx((p1 + p99) / 2) and w.width == pytest.approx(p99 - p1)


def test_monochrome1_inverts_after_the_window() -> None:
    x = np.array([[0.0, 50.0, 100.0]], dtype=np.float32)
    choice = WindowChoice("linear", Window(50, 101))
    normal = to_display(x, choice, monochrome1=False)
    inverted = to_display(x, choice, monochrome1=True)
    assert (normal.astype(int) + inverted.astype(int)).tolist() == [[255, 255, 255]]


def test_voi_lut_scales_its_output_depth_to_8_bits() -> None:
    lut = VoiLut(first_mapped=10, bits=12, data=np.array([0, 4095, 2048], dtype=np.float32))
    x = np.array([[0.0, 10.0, 11.0, 12.0, 99.0]], dtype=np.float32)
    out = to_display(x, WindowChoice("voi_lut", None, lut), monochrome1=False)
    assert out.tolist() == [[0, 0, 255, 128, 128]]


def test_colour_depths_scale_to_8_bits() -> None:
    rgb16 = np.array([[[0, 32768, 65535]]], dtype=np.uint16)
    assert colour_to_uint8(rgb16, 16).tolist() == [[[0, 128, 255]]]
    rgb12 = np.array([[[0, 2048, 4095]]], dtype=np.uint16)
    assert colour_to_uint8(rgb12, 12).tolist() == [[[0, 128, 255]]]


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16])
@pytest.mark.parametrize("padding", [None, (-2000, -2000), (0, 3)])
def test_histogram_percentiles_equal_numpys(dtype, padding) -> None:
    rng = np.random.default_rng(7)
    lo = -2000 if dtype == np.int16 else 0
    hi = 250 if dtype == np.uint8 else 4000
    stored = rng.integers(lo, hi, (123, 77)).astype(dtype)
    stored[:10, :10] = padding[0] if padding and padding[0] >= lo else stored[:10, :10]
    slope, intercept = 0.5, -100.0
    values = stored.astype(np.float64) * slope + intercept
    fast = percentile_window(values.astype(np.float32), padding, stored, rescale=(slope, intercept))
    keep = np.ones(stored.shape, bool)
    if padding:
        keep = (stored < padding[0]) | (stored > padding[1])
    p1, p99 = np.percentile(values[keep], [1, 99])
    assert fast.center == pytest.approx((p1 + p99) / 2, abs=1e-9)
    assert fast.width == pytest.approx(p99 - p1, abs=1e-9)
