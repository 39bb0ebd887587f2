"""What every face detector shares: the Detection type, its error, crops, frame and
parameter checks.  ROS-free."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from fer_ros.boxes import clip_to_image
from fer_ros.errors import StartupError


class FaceDetectorError(StartupError):
    """A detector could not be created (model file missing or unreadable, bad parameter)."""


@dataclass(frozen=True)
class Detection:
    """One face box in image pixels: integers, clipped to the image, w and h >= 1.

    ``keypoints``: BlazeFace's six face points as ((x, y), ...) float image pixels in
    ``fer_ros.face_detection.ssd.KEYPOINT_NAMES`` order (not clipped), or None (Haar).
    """

    x: int
    y: int
    w: int
    h: int
    score: float
    keypoints: tuple | None = None

    @property
    def box(self):
        """(x, y, w, h) tuple."""
        return (self.x, self.y, self.w, self.h)


def crop(bgr: np.ndarray, det) -> np.ndarray:
    """Return the part of ``bgr`` inside ``det`` (a Detection or an (x, y, w, h) tuple).

    The result is a view (no copy); call ``.copy()`` before modifying it.  The box is clipped
    to the image; a box fully outside gives an empty (0-sized) array.
    """
    if isinstance(det, Detection):
        x, y, w, h = det.x, det.y, det.w, det.h
    else:
        x, y, w, h = (int(v) for v in det)
    H, W = bgr.shape[:2]
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(W, x + w), min(H, y + h)
    if x1 <= x0 or y1 <= y0:
        return bgr[0:0, 0:0]
    return bgr[y0:y1, x0:x1]


def to_detections(boxes: np.ndarray, scores: np.ndarray, width: int, height: int,
                   min_face_size: int, max_faces: int) -> list[Detection]:
    """Pixel float boxes (x0, y0, x1, y1[, kx0, ky0, ...]) -> clipped integer Detections,
    filtered, sorted; columns after the box are key points (x, y) in pixels."""
    dets = []
    for row, s in zip(boxes.tolist(), scores.tolist()):
        x0, y0, x1, y1 = row[:4]
        # size filter on the unclipped box, so faces cut by the border still count
        if min(x1 - x0, y1 - y0) < min_face_size:
            continue
        points = tuple(zip(row[4::2], row[5::2])) if len(row) > 4 else None
        dets.append(Detection(*clip_to_image(x0, y0, x1, y1, width, height), float(s),
                              points))
    dets.sort(key=lambda d: -d.score)
    return dets[:max_faces]


def check_frame(bgr) -> np.ndarray:
    if not isinstance(bgr, np.ndarray) or bgr.dtype != np.uint8:
        raise ValueError("detect() expects a uint8 numpy array (bgr8 or mono8)")
    if bgr.ndim == 3 and bgr.shape[2] == 1:
        bgr = bgr[:, :, 0]
    if bgr.ndim == 2:
        bgr = cv2.cvtColor(bgr, cv2.COLOR_GRAY2BGR)
    if bgr.ndim != 3 or bgr.shape[2] != 3 or bgr.shape[0] == 0 or bgr.shape[1] == 0:
        raise ValueError(f"detect() expects an (H, W, 3) bgr8 image, got shape {bgr.shape}")
    return bgr


def check_params(score_threshold, min_face_size, max_faces):
    if not 0.0 <= float(score_threshold) <= 1.0:
        raise FaceDetectorError(f"score_threshold must be in [0, 1], got {score_threshold}")
    if int(min_face_size) < 0:
        raise FaceDetectorError(f"min_face_size must be >= 0, got {min_face_size}")
    if int(max_faces) < 1:
        raise FaceDetectorError(f"max_faces must be >= 1, got {max_faces}")
