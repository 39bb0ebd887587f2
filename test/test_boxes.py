"""fer_ros.boxes: the box geometry shared by face detection and tracking."""

import numpy as np
import pytest

from fer_ros.boxes import (
    clip_to_image,
    iou,
    is_duplicate,
    pairwise_iou,
    pairwise_normalised_centre_distance,
    square_around,
    xywh_to_xyxy,
    xyxy_to_xywh,
)


def test_conversions_round_trip():
    xywh = np.array([[10, 20, 30, 40], [0, 0, 1, 2]], np.float32)
    xyxy = xywh_to_xyxy(xywh)
    np.testing.assert_array_equal(xyxy, [[10, 20, 40, 60], [0, 0, 1, 2]])
    np.testing.assert_array_equal(xyxy_to_xywh(xyxy), xywh)
    assert xywh_to_xyxy([]).shape == (0, 4)
    np.testing.assert_array_equal(xywh_to_xyxy((1, 2, 3, 4)), [[1, 2, 4, 6]])


def test_iou_of_one_box_with_many():
    box = np.array([0, 0, 10, 10], np.float32)
    others = [[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30], [0, 0, 5, 5]]
    np.testing.assert_allclose(iou(box, others), [1.0, 50 / 150, 0.0, 0.25], rtol=1e-6)
    assert iou(np.zeros(4, np.float32), [[0, 0, 0, 0]])[0] == 0.0   # empty: 0, not NaN


def test_pairwise_iou_agrees_with_the_one_to_many_form():
    rng = np.random.default_rng(0)
    a = np.concatenate([rng.uniform(0, 50, (4, 2)), rng.uniform(5, 30, (4, 2))], axis=1)
    b = np.concatenate([rng.uniform(0, 50, (3, 2)), rng.uniform(5, 30, (3, 2))], axis=1)
    table = pairwise_iou(a, b)
    assert table.shape == (4, 3)
    for i in range(4):
        np.testing.assert_allclose(table[i], iou(xywh_to_xyxy(a)[i], xywh_to_xyxy(b)),
                                   rtol=1e-4, atol=1e-6)
    # as the tracker uses it: a face moved by half its width keeps IoU 1/3
    assert pairwise_iou(np.array([[0.0, 0, 40, 40]]), np.array([[20.0, 0, 40, 40]]))[0, 0] \
        == pytest.approx(1 / 3)


def test_is_duplicate_by_overlap_or_containment():
    assert is_duplicate((0, 0, 10, 10), (1, 1, 11, 11), 0.3)
    assert not is_duplicate((0, 0, 40, 40), (30, 0, 70, 40), 0.3)    # neighbours touching
    assert is_duplicate((0, 0, 100, 100), (40, 40, 70, 70), 0.3)      # small box inside
    assert not is_duplicate((0, 0, 10, 10), (10, 0, 20, 10), 0.3)     # only an edge shared


def test_normalised_centre_distance():
    a = np.array([[0.0, 0, 40, 40]])
    b = np.array([[20.0, 0, 40, 40], [0.0, 0, 20, 20]])
    np.testing.assert_allclose(pairwise_normalised_centre_distance(a, b),
                               [[0.5, np.hypot(10, 10) / 30]])


def test_clip_to_image_rounds_and_keeps_one_pixel():
    assert clip_to_image(9.6, 19.4, 40.2, 60.7, 640, 480) == (10, 19, 30, 42)
    assert clip_to_image(-20, -5, 30, 10, 640, 480) == (0, 0, 30, 10)
    assert clip_to_image(600, 470, 700, 520, 640, 480) == (600, 470, 40, 10)
    assert clip_to_image(700, 500, 800, 600, 640, 480) == (639, 479, 1, 1)


def test_square_around_enlarges_about_the_centre():
    assert square_around(100, 50, 40, 2.5) == (50, 0, 100)
    x0, y0, side = square_around(10.3, 10.7, 2, 1.0)
    assert side == 8 and (x0, y0) == (6, 7)                       # at least 8 px
