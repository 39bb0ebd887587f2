"""fer_ros.face_tracking.appearance with the face search's tracker on real faces (scikit-image's
astronaut and cameraman photos, faces of its LFW subset) pasted into camera-like frames: one person
keeps one id, another person in the same place gets a new one, and the emotion smoothing,
keyed by the id, never passes one person's scores to the other."""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np
import pytest

from fer_ros.face_detection import make_detector
from fer_ros.face_tracking.appearance import describe_face, describe_faces
from fer_ros.face_tracking.search import make_face_search
from fer_ros.face_tracking.tracker import FaceTracker
from fer_ros.smoothing import EmotionSmoother

skimage_data = pytest.importorskip("skimage.data", reason="needs scikit-image's sample images")

class Box(NamedTuple):
    x: float
    y: float
    w: float
    h: float


FRAME = (640, 480)
FACE = 110               # face box side in the frame, px
SPOT = (250.0, 150.0)    # face box corner where the second person appears
FPS = 30.0
FRAMES_EACH = 12


@pytest.fixture(scope="module")
def detector():
    return make_detector("blazeface")


def _bgr(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = (255 * image).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return np.ascontiguousarray(image[:, :, 2::-1])


def _people() -> dict[str, np.ndarray]:
    lfw = skimage_data.lfw_subset()     # the first 100 are faces (25x25 grey)
    people = {"astronaut": _bgr(skimage_data.astronaut()),
              "cameraman": _bgr(skimage_data.camera())}
    for i in (0, 10, 40):
        people[f"lfw{i}"] = cv2.resize(_bgr(lfw[i]), (200, 200), interpolation=cv2.INTER_CUBIC)
    return people


def head_patches(detector) -> dict[str, tuple[np.ndarray, float]]:
    """name -> (head patch: 3 face sides around the face, its face box side in the patch)."""
    out = {}
    for name, photo in _people().items():
        pad = 2 * max(photo.shape[:2])
        padded = cv2.copyMakeBorder(photo, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        middle = np.array(padded.shape[1::-1]) / 2      # the photo's face, not an echo of it
        face = min(detector.detect(padded), key=lambda d: np.hypot(
            d.x + d.w / 2 - middle[0], d.y + d.h / 2 - middle[1]))
        cx, cy, side = face.x + face.w / 2, face.y + face.h / 2, (face.w + face.h) / 2
        x0, y0 = int(cx - 1.5 * side), int(cy - 1.5 * side)
        out[name] = (padded[y0:y0 + int(3 * side), x0:x0 + int(3 * side)], side)
    return out


@pytest.fixture(scope="module")
def heads(detector):
    return head_patches(detector)


def _frame(head, corner, background: str, k: int, gain: float = 1.0) -> np.ndarray:
    """A frame: a part of a background photo panning by 2 px a frame, the head pasted so that
    its face box (FACE a side) has its corner at ``corner``, exposure ``gain``, noise."""
    patch, side = head
    photo = _bgr(getattr(skimage_data, background)())
    photo = cv2.resize(photo, (FRAME[0] + 100, FRAME[1] + 100))
    frame = photo[20:20 + FRAME[1], 2 * k:2 * k + FRAME[0]].copy()
    scale = FACE / side
    patch = cv2.resize(patch, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    x, y = int(round(corner[0] - FACE)), int(round(corner[1] - FACE))
    h, w = patch.shape[:2]
    frame[max(0, y):y + h, max(0, x):x + w] = patch[max(0, -y):FRAME[1] - y,
                                                    max(0, -x):FRAME[0] - x]
    noise = np.random.default_rng(k).normal(0.0, 3.0, frame.shape)
    return np.clip(frame * gain + noise, 0, 255).astype(np.uint8)


def _clip(heads, first: str, second: str) -> list[np.ndarray]:
    """``first`` drifts towards SPOT under a slowly dimming light; cut: ``second`` at SPOT
    on another background."""
    frames = []
    for k in range(FRAMES_EACH):
        corner = (SPOT[0] - 3 * (FRAMES_EACH - k), SPOT[1] - (FRAMES_EACH - k))
        frames.append(_frame(heads[first], corner, "coffee", k, gain=1.1 - 0.03 * k))
    for k in range(FRAMES_EACH):
        frames.append(_frame(heads[second], SPOT, "brick", k))
    return frames


def _ids(frames, **params) -> list[list[int]]:
    search = make_face_search(params)
    return [[t.id for t in search.process(bgr, k / FPS).tracks] for k, bgr in enumerate(frames)]


def _tracker_ids(frames, detector, min_similarity: float) -> list[list[int]]:
    """The tracker alone on every frame's detections: appearance is all that can tell the
    two people apart (the face search would also end the tracks at the cut)."""
    tracker = FaceTracker(min_similarity=min_similarity)
    ids = []
    for bgr in frames:
        found = detector.detect(bgr)
        tracks = tracker.update([d.box for d in found], describe_faces(bgr, found))
        ids.append([t.id for t in tracks])
    return ids


PAIRS = [("astronaut", "cameraman"), ("cameraman", "astronaut"), ("lfw0", "lfw10"),
         ("astronaut", "lfw40")]


@pytest.mark.parametrize("first,second", PAIRS)
def test_a_new_person_in_the_same_place_gets_a_new_id(heads, detector, first, second):
    frames = _clip(heads, first, second)
    ids = _ids(frames)
    assert all(len(found) == 1 for found in ids), ids
    before, after = ids[:FRAMES_EACH], ids[FRAMES_EACH:]
    assert all(found == before[0] for found in before), f"{first} changed id: {before}"
    assert all(found == after[0] for found in after), f"{second} changed id: {after}"
    assert after[0] != before[0], f"{second} took over {first}'s id"
    # the tracker alone: appearance gives the new person a new id, position alone would not
    with_looks = _tracker_ids(frames, detector, 0.5)
    assert with_looks[FRAMES_EACH] != with_looks[FRAMES_EACH - 1]
    by_place = _tracker_ids(frames, detector, -1.0)
    assert by_place[FRAMES_EACH] == by_place[FRAMES_EACH - 1]


def test_smoothing_never_passes_scores_to_the_next_person(heads, detector):
    frames = _clip(heads, "astronaut", "cameraman")
    happy = np.array([0.02, 0.02, 0.02, 0.86, 0.04, 0.02, 0.02])
    sad = np.array([0.02, 0.02, 0.06, 0.02, 0.04, 0.82, 0.02])
    results = {}
    for similarity in (0.5, -1.0):
        smoother = EmotionSmoother(7, time_constant_s=0.5, switch_margin=0.1)
        ids = _tracker_ids(frames, detector, similarity)
        out = [smoother.update(found[0], k / FPS, happy if k < FRAMES_EACH else sad)
               for k, found in enumerate(ids)]
        results[similarity] = out[FRAMES_EACH]
    # the first frame of the second person: its own scores, its own label
    np.testing.assert_allclose(results[0.5].scores, sad, atol=1e-6)
    assert results[0.5].label_index == 5
    # by position alone the first person's happiness would have been carried over
    assert results[-1.0].label_index == 3


def test_descriptor_ignores_exposure_and_noise_but_not_the_person(heads, detector):
    looks = {}
    for name in ("astronaut", "cameraman", "lfw0"):
        for gain in (1.0, 0.6):
            frame = _frame(heads[name], SPOT, "coffee", 0, gain=gain)
            face = max(detector.detect(frame), key=lambda d: d.w * d.h)
            looks[name, gain] = describe_face(frame, face)
    for vector in looks.values():
        assert vector is not None and vector.dtype == np.float32
        assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)
    for name in ("astronaut", "cameraman", "lfw0"):
        assert looks[name, 1.0] @ looks[name, 0.6] > 0.9
    for a, b in (("astronaut", "cameraman"), ("astronaut", "lfw0"), ("cameraman", "lfw0")):
        assert looks[a, 1.0] @ looks[b, 1.0] < 0.5     # the default tracker_min_similarity


def test_face_not_wholly_in_the_frame_has_no_descriptor(heads, detector):
    frame = _frame(heads["astronaut"], SPOT, "coffee", 0)
    face = max(detector.detect(frame), key=lambda d: d.w * d.h)
    assert describe_face(frame, face) is not None
    width, height = FRAME
    for x, y in ((-1, 100), (100, -1), (width - FACE + 1, 100), (100, height - FACE + 1)):
        assert describe_face(frame, Box(x, y, FACE, FACE)) is None
    assert describe_face(frame, Box(0, 0, FACE, FACE)) is not None
    assert describe_face(np.full((height, width, 3), 128, np.uint8), face) is None
