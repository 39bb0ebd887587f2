"""fer_ros.face_crop: rotation upright on the eye line, framing, the box fallback."""

import math

import cv2
import numpy as np
import pytest

from fer_ros.face_crop import (
    BOX_FRAMING,
    CROPS,
    EYE_FRAMING,
    IDENTITY_FRAMING,
    NODE_CROP,
    box_crop,
    crop_geometry,
    face_crop,
    node_crop,
    upright_box_crop,
)
from fer_ros.face_detection import Detection, crop


def _coordinates(h=240, w=320):
    """float32 images whose pixel values are their own x and y coordinates."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return xs, ys


def _tilted_eyes(angle_deg, centre=(160.0, 120.0), distance=40.0):
    """Subject's right eye (image left) and left eye, rotated by angle_deg (y down)."""
    a = math.radians(angle_deg)
    dx, dy = distance / 2 * math.cos(a), distance / 2 * math.sin(a)
    return (centre[0] - dx, centre[1] - dy), (centre[0] + dx, centre[1] + dy)


def _eyes_image(right, left):
    """A black 320x240 grey image with a bright disc of radius 5 on each eye (sub-pixel
    centres, smooth edges)."""
    image = np.zeros((240, 320), np.uint8)
    for x, y in (right, left):
        # shift=4: coordinates in 1/16 px
        cv2.circle(image, (round(16 * x), round(16 * y)), 16 * 5, 255, -1, cv2.LINE_AA, 4)
    return image


def _blob_centres(image):
    """Intensity-weighted centres of the two largest bright blobs, left first."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats((image > 20).astype(np.uint8))
    ys, xs = np.mgrid[0:image.shape[0], 0:image.shape[1]]
    centres = []
    for i in np.argsort(-stats[1:, cv2.CC_STAT_AREA])[:2] + 1:
        weight = np.where(labels == i, image, 0).astype(np.float64)
        centres.append(((weight * xs).sum() / weight.sum(), (weight * ys).sum() / weight.sum()))
    return sorted(centres)


@pytest.mark.parametrize("angle", [-20.0, -7.5, 12.0, 20.0])
def test_a_tilted_face_comes_out_upright(angle):
    right, left = _tilted_eyes(angle)
    image = _eyes_image(right, left)
    det = Detection(110, 70, 100, 100, 0.9, (right, left, (160, 140), (160, 155),
                                             (110, 125), (210, 125)))
    out = face_crop(image, det)
    (x0, y0), (x1, y1) = _blob_centres(out)
    assert abs(y1 - y0) < 0.6                      # eye line horizontal
    assert abs(math.hypot(x1 - x0, y1 - y0) - 40.0) < 1.0   # no scaling at native side
    # the eyes sit where the framing puts them: centre - (dx, dy) * box side
    side = out.shape[0]
    assert abs((x0 + x1) / 2 - (side / 2 - EYE_FRAMING.dx * 100)) < 1.0
    assert abs((y0 + y1) / 2 - (side / 2 - EYE_FRAMING.dy * 100)) < 1.0


def test_identity_box_framing_reproduces_the_raw_crop():
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (120, 160, 3), np.uint8)
    det = Detection(30, 20, 57, 61, 0.8)
    out = face_crop(image, det, box_framing=IDENTITY_FRAMING)
    np.testing.assert_array_equal(out, crop(image, det))


def test_box_framing_on_a_known_box():
    xs, ys = _coordinates()
    det = Detection(100, 60, 50, 50, 0.9)
    side = round(BOX_FRAMING.scale * 50)
    out_x, out_y = face_crop(xs, det), face_crop(ys, det)
    assert out_x.shape == (side, side)
    # the crop centre is the box centre moved by (dx, dy) box sides
    centre_x = (out_x[0, 0] + out_x[0, -1]) / 2 + 0.5
    centre_y = (out_y[0, 0] + out_y[-1, 0]) / 2 + 0.5
    assert centre_x == pytest.approx(125 + BOX_FRAMING.dx * 50, abs=0.6)
    assert centre_y == pytest.approx(85 + BOX_FRAMING.dy * 50, abs=0.6)
    assert out_x[0, -1] - out_x[0, 0] == pytest.approx(side - 1, abs=1e-3)  # frame pixels


def test_eye_framing_on_a_known_case():
    xs, ys = _coordinates()
    right, left = (110.0, 120.0), (130.0, 120.0)
    det = Detection(100, 100, 40, 40, 0.9, (right, left, (120, 130), (120, 137), (100, 124),
                                            (140, 124)))
    cx, cy, w, h, angle = crop_geometry(det)
    assert (cx, cy) == pytest.approx((120 + EYE_FRAMING.dx * 40, 120 + EYE_FRAMING.dy * 40))
    assert w == h == pytest.approx(EYE_FRAMING.scale * 40)
    assert angle == pytest.approx(0.0)
    out = face_crop(xs, det, side=48)
    assert out.shape == (48, 48)
    # resampled to 48 px: the crop spans scale * 40 frame pixels
    assert out[0, -1] - out[0, 0] == pytest.approx(EYE_FRAMING.scale * 40 * 47 / 48, abs=0.05)


def test_without_usable_eyes_the_box_is_used():
    image = np.random.default_rng(0).integers(0, 256, (100, 100), np.uint8)
    box_only = Detection(20, 20, 40, 40, 0.9)
    same_point = Detection(20, 20, 40, 40, 0.9, ((40, 40),) * 6)   # a bad key point fit
    expected = face_crop(image, box_only)
    assert crop_geometry(box_only)[4] == 0.0
    np.testing.assert_array_equal(face_crop(image, same_point), expected)
    assert expected.shape == (round(BOX_FRAMING.scale * 40),) * 2


def test_a_crop_leaving_the_frame_repeats_the_border():
    image = np.full((50, 50, 3), 200, np.uint8)
    out = face_crop(image, Detection(0, 0, 30, 30, 0.9), side=48)
    assert out.shape == (48, 48, 3)
    assert (out == 200).all()
    with pytest.raises(ValueError):
        face_crop(image, Detection(0, 0, 30, 30, 0.9), side=0)


@pytest.mark.parametrize("angle", [-15.0, 0.0, 18.0])
def test_the_upright_box_turns_the_eyes_level_and_keeps_the_box(angle):
    right, left = _tilted_eyes(angle)
    image = _eyes_image(right, left)
    det = Detection(100, 60, 120, 120, 0.9, (right, left, (160, 140), (160, 155),
                                             (110, 125), (210, 125)))
    out = upright_box_crop(image, det)
    assert out.shape == (120, 120)                 # the box's own size
    (x0, y0), (x1, y1) = _blob_centres(out)
    assert abs(y1 - y0) < 0.6                      # eye line horizontal
    # turned about the box centre (160, 120), which is the eye midpoint here
    assert (x0 + x1) / 2 == pytest.approx(60, abs=0.6)
    assert (y0 + y1) / 2 == pytest.approx(60, abs=0.6)


def test_the_node_crop_is_one_of_the_crops_and_the_box_without_eyes():
    assert CROPS[NODE_CROP] is upright_box_crop
    rng = np.random.default_rng(4)
    image = rng.integers(0, 256, (120, 160, 3), np.uint8)
    det = Detection(30, 20, 57, 61, 0.8)
    np.testing.assert_array_equal(node_crop(image, det), crop(image, det))
    np.testing.assert_array_equal(box_crop(image, det), crop(image, det))
