"""The OpenCV Haar cascade detector (a fallback: no close-up look, slow on VGA frames)."""

from __future__ import annotations

import math
import os
import pathlib

import cv2
import numpy as np

from fer_ros.face_detection.common import (
    Detection,
    FaceDetectorError,
    check_frame,
    check_params,
    to_detections,
)


class HaarFaceDetector:
    """OpenCV Haar cascade (``haarcascade_frontalface_default.xml`` from ``cv2.data``).

    The cascade gives no probability, so the score is derived from the number of overlapping
    raw hits (neighbours) n that were grouped into a box: ``score = n / (n + 5)``.  With the
    default ``score_threshold=0.5`` this keeps boxes with n >= 5, i.e. OpenCV's usual
    ``minNeighbors=5``; lower thresholds accept weaker boxes (down to n = 1).

    Args beyond the common ones: ``scale_factor`` (image pyramid step), ``max_side`` (frames
    larger than this are downscaled first, for speed; 0 = never), ``cascade_path``.
    """

    name = "haar"
    NEIGHBOUR_HALF_SCORE = 5.0

    def __init__(self, score_threshold: float = 0.5, min_face_size: int = 20,
                 max_faces: int = 10, scale_factor: float = 1.1, max_side: int = 0,
                 cascade_path: str | None = None):
        check_params(score_threshold, min_face_size, max_faces)
        self.score_threshold = float(score_threshold)
        self.min_face_size = int(min_face_size)
        self.max_faces = int(max_faces)
        self.scale_factor = float(scale_factor)
        self.max_side = int(max_side)
        if cascade_path is None:
            cascade_path = os.path.join(cv2.data.haarcascades,
                                        "haarcascade_frontalface_default.xml")
        self.model_path = pathlib.Path(cascade_path)
        try:
            self._cascade = cv2.CascadeClassifier(str(cascade_path))
            ok = not self._cascade.empty()
        except (cv2.error, SystemError) as exc:  # malformed XML
            raise FaceDetectorError(f"cannot load Haar cascade {cascade_path}: {exc}") from exc
        if not ok:
            raise FaceDetectorError(f"cannot load Haar cascade {cascade_path}")
        k = self.NEIGHBOUR_HALF_SCORE
        t = min(self.score_threshold, 0.999)
        # smallest neighbour count whose score reaches the threshold
        self._min_neighbors = max(1, math.ceil(k * t / (1 - t) - 1e-9))

    #: no close-up model: fer_ros.face_tracking.search runs the full search on every frame
    can_refine = False

    def detect(self, bgr: np.ndarray) -> list[Detection]:
        """Faces in a bgr8 (or mono8) frame, best first."""
        bgr = check_frame(bgr)
        H, W = bgr.shape[:2]
        gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        f = 1.0
        if self.max_side and max(H, W) > self.max_side:
            f = self.max_side / max(H, W)
            gray = cv2.resize(gray, (round(W * f), round(H * f)), interpolation=cv2.INTER_AREA)
        gray = cv2.equalizeHist(gray)
        m = max(1, int(round(self.min_face_size * f)))
        rects, neighbours = self._cascade.detectMultiScale2(
            gray, scaleFactor=self.scale_factor, minNeighbors=self._min_neighbors,
            minSize=(m, m))
        if len(rects) == 0:
            return []
        rects = np.asarray(rects, np.float32).reshape(-1, 4) / f
        n = np.asarray(neighbours, np.float32).reshape(-1)
        scores = n / (n + self.NEIGHBOUR_HALF_SCORE)
        boxes = np.concatenate([rects[:, :2], rects[:, :2] + rects[:, 2:]], axis=1)
        keep = scores >= self.score_threshold
        return to_detections(boxes[keep], scores[keep], W, H, self.min_face_size,
                              self.max_faces)
