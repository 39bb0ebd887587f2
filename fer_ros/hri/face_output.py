"""What REP-155 publishes for one face, as plain values: its normalised region (``roi``)
and its images (``cropped``, ``aligned``) at one fixed size. ROS-free.

hri_msgs/NormalizedRegionOfInterest2D holds the box corners as fractions of the source
image's width and height, each in [0, 1].

REP-155 ("Global Parameters", "Faces"): ``/humans/faces/<id>/cropped`` is the face cropped
from the source image, "if necessary scaled, centered and 0-padded" to
``/humans/faces/width`` x ``/humans/faces/height`` (default 128 x 128), and ``aligned`` is the
same face with the eyes horizontal, at the same resolution. Here ``cropped`` is the detector's
box and ``aligned`` the upright crop the model classifies (:func:`fer_ros.face_crop.node_crop`).
"""

from __future__ import annotations

import cv2
import numpy as np

#: REP-155's default /humans/faces/width and /humans/faces/height
FACE_WIDTH = FACE_HEIGHT = 128


def letterbox(bgr: np.ndarray, width: int = FACE_WIDTH, height: int = FACE_HEIGHT
              ) -> np.ndarray:
    """``bgr`` (H, W, 3) scaled to fit ``width`` x ``height`` with its aspect ratio kept,
    centred, the rest black: a new (height, width, 3) uint8 array."""
    if bgr.ndim != 3 or bgr.shape[0] < 1 or bgr.shape[1] < 1:
        raise ValueError(f"expected a non-empty (H, W, C) image, got shape {bgr.shape}")
    if width < 1 or height < 1:
        raise ValueError(f"size must be at least 1 x 1, got {width} x {height}")
    h, w = bgr.shape[:2]
    scale = min(width / w, height / h)
    new_w = min(width, max(1, int(round(w * scale))))
    new_h = min(height, max(1, int(round(h * scale))))
    # INTER_AREA when shrinking (no aliasing), INTER_LINEAR when enlarging
    interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    resized = cv2.resize(bgr, (new_w, new_h), interpolation=interpolation)
    resized = resized.reshape(new_h, new_w, bgr.shape[2])    # cv2 drops a single channel
    out = np.zeros((height, width, bgr.shape[2]), np.uint8)
    x0, y0 = (width - new_w) // 2, (height - new_h) // 2
    out[y0:y0 + new_h, x0:x0 + new_w] = resized
    return out


def normalized_box(x: float, y: float, w: float, h: float, width: int, height: int
                   ) -> tuple[float, float, float, float]:
    """(xmin, ymin, xmax, ymax) of the box (x, y, w, h) in a width x height image, as
    fractions of the image size clipped to [0, 1]."""
    if width < 1 or height < 1:
        raise ValueError(f"image size must be at least 1 x 1, got {width} x {height}")

    def clip(v: float) -> float:
        return max(0.0, min(1.0, v))
    return (clip(x / width), clip(y / height), clip((x + w) / width), clip((y + h) / height))
