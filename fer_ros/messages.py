"""The fer_ros output messages, built from the results of one frame: FaceDetectionArray
(face_detector) and EmotionArray (emotion). Pure apart from the message types: no node."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sensor_msgs.msg import RegionOfInterest

from fer_ros.budget import clamp_score
from fer_ros.face_crop import box_crop, node_crop
from fer_ros.msg import Emotion, EmotionArray, FaceDetection, FaceDetectionArray
from fer_ros.ros_image import bgr_to_image_msg, copy_header


def stamp_seconds(header) -> float:
    """A header's stamp in seconds."""
    return header.stamp.sec + header.stamp.nanosec * 1e-9


def detections_to_msg(header, bgr, detections, tracks, tracked_ids,
                      box_crops: bool = False) -> FaceDetectionArray:
    """The FaceDetectionArray for one frame: boxes, scores, track ids and the crops
    (fer_ros.face_crop.node_crop; with ``box_crops``, the plain box crops too)."""
    out = FaceDetectionArray()
    out.header = copy_header(header)
    out.image_height, out.image_width = int(bgr.shape[0]), int(bgr.shape[1])
    for i, det in enumerate(detections):
        face = FaceDetection()
        if tracks is not None:
            face.id = int(tracks[i].id)
            face.confirmed = bool(tracks[i].confirmed)
        face.box = RegionOfInterest(x_offset=int(det.x), y_offset=int(det.y),
                                    width=int(det.w), height=int(det.h), do_rectify=False)
        face.score = float(det.score)
        out.faces.append(face)
        out.crops.append(bgr_to_image_msg(node_crop(bgr, det), header))
        if box_crops:
            out.box_crops.append(bgr_to_image_msg(box_crop(bgr, det), header))
    out.tracked_ids = [int(i) for i in tracked_ids]
    return out


def emotions_to_msg(header, class_names: Sequence[str], tracked_ids: Sequence[int],
                    faces: Sequence[Any], raw: Any, smoothed: Sequence[Any]
                    ) -> tuple[EmotionArray, int]:
    """The EmotionArray for one faces message.

    ``faces`` are the FaceDetection messages classified, ``raw[i]`` their model scores and
    ``smoothed[i]`` the :class:`fer_ros.smoothing.EmotionSmoother` result of a tracked face
    (None for an untracked one, id 0: it gets the raw scores). Returns the message and how
    many detection scores were clamped into [0, 1].
    """
    out = EmotionArray()
    out.header = copy_header(header)
    out.class_names = list(class_names)
    out.tracked_ids = list(tracked_ids)
    clamped_count = 0
    for face, scores, smooth in zip(faces, raw, smoothed):
        raw_index = int(scores.argmax())
        emo = Emotion()
        emo.face_id = int(face.id)
        emo.box = face.box
        emo.detection_score, clamped = clamp_score(face.score)
        clamped_count += int(clamped)
        emo.raw_label = class_names[raw_index]
        emo.raw_confidence = float(scores[raw_index])
        emo.raw_scores = [float(s) for s in scores]
        if smooth is not None:
            emo.label = class_names[smooth.label_index]
            emo.confidence = float(smooth.confidence)
            emo.scores = [float(s) for s in smooth.scores]
        else:
            emo.label, emo.confidence = emo.raw_label, emo.raw_confidence
            emo.scores = list(emo.raw_scores)
        out.faces.append(emo)
    return out, clamped_count
