"""fer_ros.preprocessing.to_model_input: crops -> (N, 48, 48, 1) float32 in [0, 255]."""

import cv2
import numpy as np
import pytest

from fer_ros.preprocessing import to_gray, to_model_input

RNG = np.random.default_rng(7)


def test_shape_dtype_range_for_mixed_crops():
    crops = [RNG.integers(0, 256, (120, 90, 3), dtype=np.uint8),   # bgr, larger, not square
             RNG.integers(0, 256, (20, 31), dtype=np.uint8),       # grey, smaller
             RNG.integers(0, 256, (48, 48, 1), dtype=np.uint8),    # grey with channel axis
             RNG.integers(0, 256, (60, 60, 4), dtype=np.uint8)]    # bgra
    out = to_model_input(crops)
    assert out.shape == (4, 48, 48, 1) and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 255
    assert out.max() > 1.5  # no [0, 1] normalisation here: that lives in the model


def test_values_are_grey_levels_not_rescaled():
    g = RNG.integers(0, 256, (48, 48), dtype=np.uint8)
    np.testing.assert_array_equal(to_model_input([g])[0, :, :, 0], g.astype(np.float32))
    # a uniform BGR colour becomes its luma
    b, gr, r = 200, 50, 10
    crop = np.empty((30, 30, 3), np.uint8)
    crop[:] = (b, gr, r)
    val = to_model_input([crop])[0]
    expect = 0.114 * b + 0.587 * gr + 0.299 * r
    assert np.all(np.abs(val - expect) <= 1.0)


def test_geometry_is_kept():
    """Left-dark/right-bright and top/bottom stay where they are (no transpose, no flip)."""
    crop = np.zeros((100, 80, 3), np.uint8)
    crop[:, 40:] = 255          # right half white
    crop[:10, :] = 128          # top band grey
    out = to_model_input([crop])[0, :, :, 0]
    assert out[24, :20].max() < 5 and out[24, -20:].min() > 250
    assert np.all(np.abs(out[1, :] - 128) < 2)


def test_input_not_mutated_and_views_accepted():
    frame = RNG.integers(0, 256, (200, 300, 3), dtype=np.uint8)
    before = frame.copy()
    view = frame[50:130, 100:180]           # non-contiguous crop view
    out = to_model_input([view, frame[::2, ::3]])
    np.testing.assert_array_equal(frame, before)
    ref = cv2.resize(cv2.cvtColor(np.ascontiguousarray(view), cv2.COLOR_BGR2GRAY), (48, 48),
                     interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(out[0, :, :, 0], ref)


def test_tiny_crop_is_upscaled():
    out = to_model_input([np.full((3, 2, 3), 77, np.uint8)])
    assert out.shape == (1, 48, 48, 1) and np.all(np.abs(out - 77) <= 1)


def test_empty_list_and_generator():
    assert to_model_input([]).shape == (0, 48, 48, 1)
    gen = (np.zeros((10, 10, 3), np.uint8) for _ in range(3))
    assert to_model_input(gen).shape == (3, 48, 48, 1)


def test_other_size():
    assert to_model_input([np.zeros((10, 10), np.uint8)], size=64).shape == (1, 64, 64, 1)


@pytest.mark.parametrize("bad", [np.zeros((0, 5, 3), np.uint8), np.zeros((5, 0), np.uint8)])
def test_empty_crop_raises(bad):
    with pytest.raises(ValueError, match="empty"):
        to_model_input([np.zeros((5, 5, 3), np.uint8), bad])


def test_bad_crops_raise():
    with pytest.raises(ValueError):
        to_model_input([np.zeros((5, 5, 3), np.float32)])
    with pytest.raises(ValueError):
        to_model_input([np.zeros((5, 5, 2), np.uint8)])
    with pytest.raises(TypeError):
        to_gray([[1, 2], [3, 4]])
