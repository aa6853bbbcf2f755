"""The grey pipeline as pure functions: linear window, percentiles, VOI LUT, inversion."""

from __future__ import annotations

import numpy as np
import pytest

from dcmview.core.model import Window
from dcmview.core.windowing import (
    Modality,
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
    # c=100, w=11: 0 up to 94.5, 255 above 104.5, ((x - 99.5) / 10 + 0.5) * 255 between,
    # rounded (values worked out by hand).
    x = np.array([[94.0, 94.5, 95.0, 99.5, 104.5, 105.0]], dtype=np.float32)
    assert linear_to_uint8(x, Window(100, 11)).tolist() == [[0, 0, 13, 128, 255, 255]]


def test_width_one_is_a_threshold() -> None:
    x = np.array([[9.0, 9.6, 10.0, 11.0]], dtype=np.float32)
    assert linear_to_uint8(x, Window(10, 1)).tolist() == [[0, 255, 255, 255]]


def test_large_frames_are_converted_in_chunks_with_the_same_values() -> None:
    # c=40, w=400: 0 up to -160, 255 above 239, (x + 160) * 255 / 399 rounded between
    # (values worked out by hand). Far more rows than one chunk, every row the same.
    values = [-1000.0, -160.0, 0.0, 39.5, 100.0, 239.0, 1000.0]
    expected = [0, 0, 102, 128, 166, 255, 255]
    x = np.tile(np.array(values, dtype=np.float32), (3000, 1))
    out = linear_to_uint8(x, Window(40, 400))
    assert out.shape == x.shape
    assert (out == np.array(expected, dtype=np.uint8)).all()


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


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.int16, np.int32, np.float32])
@pytest.mark.parametrize(
    "modality", [None, Modality(), Modality(2.5, -1024.0), Modality(0.3, 7.0)], ids=str
)
def test_the_one_pass_linear_display_equals_rescale_then_window(dtype, modality) -> None:
    # to_display maps contiguous frames in one reused float32 buffer (several of them here:
    # 700x500 is more than one buffer); the result must be, value for value, rescale() and then
    # linear_to_uint8(), as the blockwise path does. Windows: wide, narrow, just over 1 wide.
    rng = np.random.default_rng(7)
    if np.dtype(dtype).kind == "f":
        stored = (rng.standard_normal((700, 500)) * 2000).astype(dtype)
    else:
        info = np.iinfo(dtype)
        low, high = max(int(info.min), -40000), min(int(info.max), 70000)
        stored = rng.integers(low, high, size=(700, 500), endpoint=True, dtype=dtype)
    for window in (Window(40, 400), Window(-300.5, 2.5), Window(1000, 9000), Window(0, 1.5)):
        for monochrome1 in (False, True):
            got = to_display(stored, WindowChoice("linear", window), monochrome1, modality)
            values = (
                stored if modality is None else rescale(stored, modality.slope, modality.intercept)
            )
            expected = linear_to_uint8(values, window)
            if monochrome1:
                expected = 255 - expected
            assert np.array_equal(got, expected), (window, monochrome1)
