"""fer_ros.face_tracking.scene_change: cut / motion / still from a downscaled grey frame
difference."""

import cv2
import numpy as np
import pytest
from conftest import composite_frame

from fer_ros.face_tracking.scene_change import Change, SceneChange

LEFT, RIGHT = (40, 100), (380, 100)


def photo(name: str) -> np.ndarray:
    """A 640x480 bgr8 view of one of scikit-image's photos."""
    data = pytest.importorskip("skimage.data")
    rgb = np.asarray(getattr(data, name)())
    return cv2.resize(rgb[:, :, ::-1], (640, 480), interpolation=cv2.INTER_AREA)


def changes(frames) -> list[Change]:
    scene = SceneChange()
    return [scene.update(f) for f in frames]


def noisy(frame: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    grain = np.random.default_rng(seed).normal(0, sigma, frame.shape)
    return np.clip(frame + grain, 0, 255).astype(np.uint8)


def test_the_same_frame_is_still_even_with_sensor_noise(astronaut_bgr):
    frame, _ = composite_frame(astronaut_bgr, [LEFT])
    assert changes([frame, frame]) == [Change.FIRST, Change.STILL]
    assert changes([noisy(frame, 6, i) for i in range(4)]) == [Change.FIRST] + [Change.STILL] * 3


def test_a_face_coming_into_view_or_moving_is_motion_not_a_cut(astronaut_bgr):
    one, _ = composite_frame(astronaut_bgr, [LEFT])
    two, _ = composite_frame(astronaut_bgr, [LEFT, RIGHT])
    moved, _ = composite_frame(astronaut_bgr, [(LEFT[0] + 6, LEFT[1])])
    assert changes([one, two, two, moved]) == [Change.FIRST, Change.MOTION, Change.STILL,
                                                Change.MOTION]


def test_a_slow_pan_and_a_brightness_step_are_not_cuts():
    coffee = photo("coffee")
    panned = np.roll(coffee, 3, axis=1)
    brighter = cv2.add(coffee, np.full_like(coffee, 25))
    assert changes([coffee, panned]) == [Change.FIRST, Change.MOTION]
    assert changes([coffee, brighter])[1] is not Change.CUT


def test_another_scene_is_a_cut(astronaut_bgr):
    face, _ = composite_frame(astronaut_bgr, [LEFT])
    coffee, cat = photo("coffee"), photo("chelsea")
    assert changes([face, coffee, coffee, cat]) == [Change.FIRST, Change.CUT, Change.STILL,
                                                    Change.CUT]


def test_another_frame_size_is_a_cut():
    grey = np.full((480, 640, 3), 100, np.uint8)
    assert changes([grey, np.full((1080, 1920, 3), 100, np.uint8), grey]) == \
        [Change.FIRST, Change.CUT, Change.CUT]


def test_reset_mono_input_and_bad_input():
    scene = SceneChange()
    grey = np.full((480, 640), 100, np.uint8)
    assert [scene.update(grey), scene.update(grey[:, :, None])] == [Change.FIRST, Change.STILL]
    scene.reset()
    assert scene.update(grey) is Change.FIRST
    for bad in (np.zeros((0, 4, 3), np.uint8), np.zeros((4, 4, 3), np.float32),
                np.zeros((4, 4, 4), np.uint8), "frame"):
        with pytest.raises(ValueError, match="uint8 image"):
            scene.update(bad)
