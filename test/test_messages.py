"""Output messages from one frame's results (fer_ros.messages): real message types."""

from __future__ import annotations

import numpy as np
import pytest
from std_msgs.msg import Header

from fer_ros.face_crop import node_crop
from fer_ros.face_detection import Detection
from fer_ros.face_tracking.tracker import Track
from fer_ros.messages import detections_to_msg, emotions_to_msg, stamp_seconds
from fer_ros.smoothing import SmoothedEmotion

NAMES = ["angry", "happy", "neutral"]


def header(sec=12, nanosec=500_000_000, frame_id="camera"):
    h = Header(frame_id=frame_id)
    h.stamp.sec, h.stamp.nanosec = sec, nanosec
    return h


def test_stamp_seconds():
    assert stamp_seconds(header()) == pytest.approx(12.5)


def test_detections_to_msg_boxes_ids_and_crops():
    bgr = np.zeros((60, 80, 3), np.uint8)
    bgr[10:30, 20:40] = 200
    dets = [Detection(20, 10, 20, 20, 0.9), Detection(0, 0, 5, 6, 0.4)]
    tracks = [Track(7, confirmed=True, hits=3, age=3), Track(8, confirmed=False, hits=1, age=1)]
    msg = detections_to_msg(header(), bgr, dets, tracks, [7, 8, 3])
    assert (msg.image_width, msg.image_height) == (80, 60)
    assert msg.header.frame_id == "camera" and msg.header.stamp.sec == 12
    assert [f.id for f in msg.faces] == [7, 8] and [f.confirmed for f in msg.faces] == [True,
                                                                                       False]
    assert (msg.faces[0].box.x_offset, msg.faces[0].box.width) == (20, 20)
    assert msg.faces[1].score == pytest.approx(0.4)
    # the crops are the node's (fer_ros.face_crop.node_crop: no eyes here, so the box)
    expected = node_crop(bgr, dets[0])
    assert (msg.crops[0].height, msg.crops[0].width) == expected.shape[:2]
    assert bytes(msg.crops[0].data) == expected.tobytes()
    assert list(msg.tracked_ids) == [7, 8, 3]
    untracked = detections_to_msg(header(), bgr, dets[:1], None, [])
    assert untracked.faces[0].id == 0 and not untracked.faces[0].confirmed


def faces_of(*specs):
    from fer_ros.msg import FaceDetection

    out = []
    for face_id, score in specs:
        face = FaceDetection()
        face.id, face.score = face_id, score
        face.box.x_offset, face.box.width = 3 * face_id, 10
        out.append(face)
    return out


def test_emotions_to_msg_smoothed_for_tracked_raw_for_untracked():
    faces = faces_of((5, 0.8), (0, 1.5))
    raw = np.array([[0.1, 0.7, 0.2], [0.6, 0.3, 0.1]], np.float32)
    smoothed = [SmoothedEmotion(scores=np.array([0.2, 0.3, 0.5], np.float32), label_index=2),
                None]
    msg, clamped = emotions_to_msg(header(), NAMES, [5, 9], faces, raw, smoothed)
    assert clamped == 1                                  # the 1.5 detection score
    assert list(msg.class_names) == NAMES and list(msg.tracked_ids) == [5, 9]
    assert msg.header.stamp.sec == 12
    tracked, untracked = msg.faces
    assert (tracked.face_id, tracked.raw_label, tracked.label) == (5, "happy", "neutral")
    assert tracked.raw_confidence == pytest.approx(0.7)
    assert tracked.confidence == pytest.approx(0.5)
    assert list(tracked.scores) == pytest.approx([0.2, 0.3, 0.5])
    assert tracked.box.x_offset == 15 and tracked.detection_score == pytest.approx(0.8)
    assert (untracked.label, untracked.raw_label) == ("angry", "angry")
    assert list(untracked.scores) == pytest.approx(list(untracked.raw_scores))
    assert untracked.detection_score == 1.0


def test_emotions_to_msg_without_faces():
    msg, clamped = emotions_to_msg(header(), NAMES, [4], [], [], [])
    assert msg.faces == [] and list(msg.tracked_ids) == [4] and clamped == 0
