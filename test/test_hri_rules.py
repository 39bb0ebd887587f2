"""The ROS-free ROS4HRI rules (fer_ros.hri): face ids, the faces to publish and retire,
expressions, valence/arousal, the face region and images."""

from __future__ import annotations

import itertools
import math
import random
import re

import numpy as np
import pytest
from conftest import CLASS_NAMES
from hypothesis import given, settings
from hypothesis import strategies as st

from fer_ros.face_crop import box_crop
from fer_ros.face_detection.common import Detection
from fer_ros.hri import TOPICS, face_topic
from fer_ros.hri.expressions import (
    ANGRY,
    CIRCUMPLEX_DEGREES,
    DISGUSTED,
    EXPRESSIONS,
    HAPPY,
    NEUTRAL,
    SAD,
    SCARED,
    SURPRISED,
    circumplex_points,
    expressions_for,
    valence_arousal,
)
from fer_ros.hri.face_output import FACE_HEIGHT, FACE_WIDTH, letterbox, normalized_box
from fer_ros.hri.ids import TAG_LENGTH, FaceIds, base36, is_face_id

# ROS 2 topic name token: a letter or underscore first (never a digit), then alphanumerics /
# underscores (rcl's topic name validation); REP-155 ids are such tokens.
ROS_TOKEN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def tags(*names):
    """A new_tag for FaceIds that hands out ``names`` in order."""
    it = iter(names)
    return lambda: next(it)


# ------------------------------------------------------------------------------------ ids
def test_base36():
    assert [base36(n) for n in (0, 1, 9, 10, 35, 36, 1295, 1296)] == \
        ["0", "1", "9", "a", "z", "10", "zz", "100"]
    with pytest.raises(ValueError):
        base36(-1)


def test_face_ids_name_tracks_with_the_tag_and_base36_id():
    ids = FaceIds(tags("kqzd"))
    change = ids.update([2, 1, 37])
    assert change.added == [(1, "kqzd1"), (2, "kqzd2"), (37, "kqzd11")]
    assert change.retired == []
    assert ids.tracked == {1: "kqzd1", 2: "kqzd2", 37: "kqzd11"}
    assert ids.face_id(2) == "kqzd2" and ids.face_id(3) is None


def test_a_face_keeps_its_id_while_tracked_and_retires_once():
    ids = FaceIds(tags("abcd"))
    ids.update([1, 2])
    assert ids.update([1, 2]) == ([], [])            # nothing changed
    change = ids.update([2, 3])
    assert change.added == [(3, "abcd3")] and change.retired == ["abcd1"]
    assert ids.face_id(1) is None and ids.face_id(2) == "abcd2"
    assert ids.retire_all() == ["abcd2", "abcd3"]
    assert ids.tracked == {}


def test_untracked_faces_get_no_id():
    ids = FaceIds(tags("abcd"))
    assert ids.update([0, 0]) == ([], [])
    assert ids.tracked == {}


def test_a_restarted_tracker_gets_a_new_tag_and_old_faces_keep_theirs():
    ids = FaceIds(tags("aaaa", "bbbb", "cccc"))
    ids.update([1, 2, 3])
    ids.update([3])                          # 1 and 2 left
    change = ids.update([3, 1])              # 1 again: a new tracker (ids start over)
    assert change.added == [(1, "bbbb1")]
    assert ids.face_id(3) == "aaaa3"         # still tracked: never renamed
    ids.update([1, 2])                       # 2 is above 1: same tag
    assert ids.face_id(2) == "bbbb2"
    ids.update([])
    ids.update([2])                          # 2 named under bbbb before: next tag
    assert ids.face_id(2) == "cccc2"


def test_a_tag_is_never_drawn_twice():
    ids = FaceIds(tags("aaaa", "aaaa", "bbbb"))
    ids.update([1])
    ids.update([])
    ids.update([1])
    assert ids.face_id(1) == "bbbb1"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 12), max_size=6), min_size=1, max_size=40))
def test_face_ids_are_never_reused_and_valid(frames):
    """Any sequence of tracked-id sets (also ones a tracker cannot produce, e.g. restarts):
    every id is a valid ROS name token, a face keeps its id while tracked, and an id that
    was retired is never handed out again."""
    ids = FaceIds(lambda: "".join(random.choice("abcdefghijklmnopqrstuvwxyz")
                                  for _ in range(TAG_LENGTH)))
    issued, retired = set(), set()
    previous: dict[int, str] = {}
    for frame in frames:
        change = ids.update(frame)
        now = ids.tracked
        assert set(now) == {i for i in frame if i > 0}
        for track_id, face_id in now.items():
            if track_id in previous:
                assert face_id == previous[track_id]
        for _, face_id in change.added:
            assert is_face_id(face_id) and ROS_TOKEN.match(face_id)
            assert face_id not in issued, f"{face_id} handed out twice"
            issued.add(face_id)
        assert set(change.retired) == set(previous.values()) - set(now.values())
        retired |= set(change.retired)
        assert not retired & set(now.values())
        previous = now


def test_is_face_id():
    assert is_face_id("kqzd1") and is_face_id("a_1")
    for bad in ("", "1abc", "_abc", "ab-c", "ab/c", "äbc"):
        assert not is_face_id(bad), bad


def test_topics_are_rep155_names():
    assert face_topic("kqzd1", "roi") == "/humans/faces/kqzd1/roi"
    assert set(TOPICS) == {"/humans/faces/tracked"} | {
        f"/humans/faces/<id>/{sub}" for sub in ("roi", "cropped", "aligned", "expression")}


# ---------------------------------------------------------------------------- expressions
def test_fer_classes_map_to_rep155_constants():
    assert expressions_for(CLASS_NAMES) == [ANGRY, DISGUSTED, SCARED, HAPPY, NEUTRAL, SAD,
                                            SURPRISED]
    assert expressions_for(["Happy", "surprised"]) == [HAPPY, SURPRISED]   # constants too


def test_a_class_without_expression_is_named():
    with pytest.raises(ValueError, match="contempt"):
        expressions_for(["happy", "contempt"])


def test_rep155_constants_match_hri_msgs():
    """The constants spelled here are hri_msgs/Expression's (where hri_msgs is installed)."""
    try:
        from hri_msgs.msg import Expression
    except ImportError as exc:
        pytest.skip(f"hri_msgs not installed ({exc}): `make hri-msgs`")
    defined = {v for k, v in vars(Expression).items() if k.isupper() and isinstance(v, str)}
    assert set(EXPRESSIONS) <= defined


def test_circumplex_directions():
    points = dict(zip(EXPRESSIONS, circumplex_points(EXPRESSIONS)))
    assert points[NEUTRAL] == (0.0, 0.0)
    assert points[HAPPY] == pytest.approx((1.0, 0.0))
    assert points[SURPRISED] == pytest.approx((0.0, 1.0))
    for negative in (ANGRY, SCARED, DISGUSTED, SAD):
        assert points[negative][0] < 0            # unpleasant
    assert points[ANGRY][1] > 0 and points[SCARED][1] > 0     # aroused
    assert points[SAD][1] < 0                                 # deactivated
    for expression in CIRCUMPLEX_DEGREES:
        assert math.hypot(*points[expression]) == pytest.approx(1.0)


def test_valence_arousal_of_confident_and_mixed_scores():
    points = circumplex_points(expressions_for(CLASS_NAMES))
    one_hot = np.eye(len(CLASS_NAMES))
    happy = one_hot[CLASS_NAMES.index("happy")]
    assert valence_arousal(happy, points) == pytest.approx((1.0, 0.0))
    assert valence_arousal(one_hot[CLASS_NAMES.index("neutral")], points) == (0.0, 0.0)
    sad = valence_arousal(one_hot[CLASS_NAMES.index("sad")], points)
    assert sad[0] < 0 and sad[1] < 0
    mixed = 0.5 * happy + 0.5 * one_hot[CLASS_NAMES.index("surprise")]
    assert valence_arousal(mixed, points) == pytest.approx((0.5, 0.5))
    # an uncertain face (half neutral) is halfway to the centre
    half = 0.5 * happy + 0.5 * one_hot[CLASS_NAMES.index("neutral")]
    assert valence_arousal(half, points) == pytest.approx((0.5, 0.0))


def test_valence_arousal_bad_scores():
    points = circumplex_points(expressions_for(CLASS_NAMES))
    assert valence_arousal([0.0] * 7, points) == (0.0, 0.0)
    assert valence_arousal([math.nan] * 7, points) == (0.0, 0.0)
    with pytest.raises(ValueError):
        valence_arousal([1.0, 0.0], points)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(-1.0, 10.0) | st.just(math.nan), min_size=7, max_size=7))
def test_valence_arousal_stay_in_range(scores):
    points = circumplex_points(expressions_for(CLASS_NAMES))
    valence, arousal = valence_arousal(scores, points)
    assert -1.0 <= valence <= 1.0 and -1.0 <= arousal <= 1.0
    assert math.hypot(valence, arousal) <= 1.0 + 1e-9


# ------------------------------------------------------------------------- region, images
def test_normalized_box():
    assert normalized_box(160, 120, 320, 240, 640, 480) == (0.25, 0.25, 0.75, 0.75)
    assert normalized_box(-10, -5, 700, 600, 640, 480) == (0.0, 0.0, 1.0, 1.0)   # clipped
    with pytest.raises(ValueError):
        normalized_box(0, 0, 1, 1, 0, 480)


@pytest.mark.parametrize("h, w", [(60, 30), (30, 60), (200, 200), (7, 3), (1, 1), (300, 128)])
def test_letterbox_keeps_the_aspect_centred_with_black_borders(h, w):
    rng = np.random.default_rng(0)
    img = rng.integers(1, 256, (h, w, 3), dtype=np.uint8)   # no black pixel inside
    out = letterbox(img)
    assert out.shape == (FACE_HEIGHT, FACE_WIDTH, 3) and out.dtype == np.uint8
    rows = np.flatnonzero(out.any(axis=(1, 2)))
    cols = np.flatnonzero(out.any(axis=(0, 2)))
    content_h, content_w = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    assert max(content_h, content_w) == 128                  # scaled to fit
    assert abs(content_w / content_h - w / h) <= 1.0 / min(content_h, content_w) + 0.02 \
        or min(content_h, content_w) == 1
    assert abs(rows[0] - (128 - rows[-1] - 1)) <= 1           # centred
    assert abs(cols[0] - (128 - cols[-1] - 1)) <= 1


def test_letterbox_bad_input():
    with pytest.raises(ValueError):
        letterbox(np.zeros((0, 5, 3), np.uint8))
    with pytest.raises(ValueError):
        letterbox(np.zeros((5, 5, 3), np.uint8), 0, 10)


def test_box_crop_is_the_box_clipped_to_the_image():
    frame = np.arange(40 * 50 * 3, dtype=np.uint32).reshape(40, 50, 3).astype(np.uint8)
    det = Detection(x=10, y=5, w=20, h=15, score=0.9)
    crop = box_crop(frame, det)
    assert np.array_equal(crop, frame[5:20, 10:30]) and crop.base is None
    outside = box_crop(frame, Detection(x=40, y=-10, w=30, h=20, score=0.9))
    assert np.array_equal(outside, frame[0:10, 40:50])
    for x, y in itertools.product((-100, 100), (-100, 100)):   # fully outside: one pixel
        assert box_crop(frame, Detection(x=x, y=y, w=5, h=5, score=0.9)).shape[:2] == (1, 1)
