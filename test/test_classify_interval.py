"""classify_interval_ms: a tracked face's scores are reused until they are that old.

The rule (fer_ros.classify_interval.LatestScores) on its own, then the real emotion node with
the project's model: which scores each published face carries and how many faces it ran the
CNN on.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import Collector, spin_until, wait_connected
from fer_ros.msg import EmotionArray, FaceDetectionArray
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy

from fer_ros.classify_interval import LatestScores

RELIABLE = QoSProfile(depth=20, reliability=ReliabilityPolicy.RELIABLE)


RADIAL, CHECKERS, STRIPES, RAMP = range(4)


def pattern(kind: int) -> np.ndarray:
    """A 48x48 bgr8 crop the emotion models score differently."""
    y, x = np.mgrid[0:48, 0:48]
    grey = [np.hypot(x - 24, y - 24) * 7, ((x // 8 + y // 8) % 2) * 255.0, (x // 6 % 2) * 255.0,
            x * 5.0][kind]
    return np.repeat(np.clip(grey, 0, 255).astype(np.uint8)[..., None], 3, axis=2)


def test_without_an_interval_every_face_is_due():
    latest = LatestScores(0.0)
    latest.store(3, 1.0, np.ones(7))
    assert latest.due([3, 0, 9], 1.0) == [0, 1, 2]


def test_a_tracked_face_is_due_again_once_its_scores_are_the_interval_old():
    latest = LatestScores(0.1)
    assert latest.due([3, 0], 1.0) == [0, 1]          # new track, untracked face
    latest.store(3, 1.0, np.full(7, 0.5))
    latest.store(0, 1.0, np.ones(7))                  # untracked: not kept
    assert latest.due([3, 0], 1.05) == [1]
    np.testing.assert_array_equal(latest.scores(3), np.full(7, 0.5))
    assert latest.due([3], 1.0 + 0.1) == [0]          # exactly the interval: due
    assert latest.due([3], 0.99) == [0]               # stamp behind the scores': due
    with pytest.raises(KeyError):
        latest.scores(0)


def test_for_frame_classifies_only_the_faces_due():
    latest = LatestScores(0.1)
    seen = []

    def classify(crops):
        seen.append(list(crops))
        return np.array([[float(crop), 1.0] for crop in crops], np.float32)

    scores, classified = latest.for_frame([3, 0], 1.0, [10, 20], classify)
    assert classified == 2 and seen == [[10, 20]]
    np.testing.assert_array_equal(scores, [[10, 1], [20, 1]])
    scores, classified = latest.for_frame([3, 0], 1.05, [11, 21], classify)
    assert classified == 1 and seen[-1] == [21]             # track 3 reuses its scores
    np.testing.assert_array_equal(scores, [[10, 1], [21, 1]])
    scores, classified = latest.for_frame([], 1.1, [], classify)
    assert scores.shape[0] == 0 and classified == 0 and len(seen) == 2


def test_forget_drops_tracks_no_longer_alive():
    latest = LatestScores(1.0)
    latest.store(3, 1.0, np.ones(7))
    latest.store(4, 1.0, np.ones(7))
    latest.forget([4])
    assert latest.due([3, 4], 1.5) == [0]


@pytest.mark.parametrize("seconds", [-0.1, float("inf"), float("nan")])
def test_a_bad_interval_is_refused(seconds):
    with pytest.raises(ValueError, match="interval_s"):
        LatestScores(seconds)


def test_emotion_node_reuses_a_tracked_faces_scores_within_the_interval(
        ros_context, executor, helper_node, emotion_model):
    from fer_ros.msg import FaceDetection

    from fer_ros.emotion_classifier import load_classifier
    from fer_ros.nodes.emotion_node import EmotionNode
    from fer_ros.preprocessing import to_model_input
    from fer_ros.ros_image import bgr_to_image_msg

    node = EmotionNode(context=ros_context, parameter_overrides=[
        Parameter("model_path", value=str(emotion_model)),
        Parameter("time_constant_s", value=0.0),
        Parameter("classify_interval_ms", value=100.0)])
    executor.add_node(node)
    pub = helper_node.create_publisher(FaceDetectionArray, "faces", RELIABLE)
    out = Collector(helper_node, EmotionArray, "emotions", RELIABLE)
    assert wait_connected(executor, {pub: 1}, [(node, "/emotions")])

    # per frame: the tracked face's crop, the untracked face's
    frames = [(RADIAL, STRIPES), (CHECKERS, RAMP), (CHECKERS, STRIPES), (RADIAL, RAMP),
              (RADIAL, STRIPES)]
    classifier = load_classifier(emotion_model)
    own = [classifier.predict(to_model_input([pattern(a), pattern(b)])) for a, b in frames]
    assert not np.allclose(own[0][0], own[1][0], atol=0.1)    # the model tells them apart

    def faces_msg(k: int) -> FaceDetectionArray:
        msg = FaceDetectionArray()
        msg.header.stamp.sec, msg.header.stamp.nanosec = 1, k * 50_000_000     # 20 fps
        for track_id, kind in zip((7, 0), frames[k]):
            face = FaceDetection()
            face.id = track_id
            face.box.width = face.box.height = 48
            msg.faces.append(face)
            msg.crops.append(bgr_to_image_msg(pattern(kind)))
        msg.tracked_ids = [7]
        return msg

    def publish(k: int) -> EmotionArray:
        pub.publish(faces_msg(k))
        assert spin_until(executor, lambda: len(out.messages) > k)
        return out.messages[k]

    published = [np.array([f.raw_scores for f in publish(k).faces]) for k in range(4)]
    # the tracked face (7): classified at 0 and 100 ms, its scores reused at 50 and 150 ms,
    # though its crop changed then
    for k, source in ((0, 0), (1, 0), (2, 2), (3, 2)):
        np.testing.assert_allclose(published[k][0], own[source][0], atol=0.02)
    np.testing.assert_array_equal(published[1][0], published[0][0])
    assert not np.allclose(published[1][0], own[1][0], atol=0.1)
    # the untracked face (0): classified on every frame
    for k in range(4):
        np.testing.assert_allclose(published[k][1], own[k][1], atol=0.02)
    assert node.stats()["classified"] == 4 + 2

    node.set_parameters([Parameter("classify_interval_ms", value=0.0)])
    last = np.array([f.raw_scores for f in publish(4).faces])
    np.testing.assert_allclose(last[0], own[4][0], atol=0.02)
    assert node.stats()["classified"] == 6 + 2
