"""Box geometry shared by face detection and tracking.  ROS-free, NumPy only.

Two layouts are used: ``xyxy`` = (x0, y0, x1, y1) corners, what the detector's decoding and
non-maximum suppression work in, and ``xywh`` = (x, y, w, h), what detections, tracks and
ROS messages carry.  Arrays are (N, 4) float; a single box is any 4-sequence.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "xywh_to_xyxy",
    "xyxy_to_xywh",
    "iou",
    "pairwise_iou",
    "is_duplicate",
    "pairwise_normalised_centre_distance",
    "clip_to_image",
    "square_around",
]

# A box lying more than this fraction inside another is the same face (see is_duplicate).
_CONTAINED_FRACTION = 0.7


def xywh_to_xyxy(boxes) -> np.ndarray:
    """(N, 4) (x, y, w, h) -> (N, 4) (x0, y0, x1, y1), float32."""
    b = np.asarray(boxes, np.float32).reshape(-1, 4)
    return np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1)


def xyxy_to_xywh(boxes) -> np.ndarray:
    """(N, 4) (x0, y0, x1, y1) -> (N, 4) (x, y, w, h), float32."""
    b = np.asarray(boxes, np.float32).reshape(-1, 4)
    return np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], axis=1)


def iou(box, boxes) -> np.ndarray:
    """IoU of one xyxy box with each row of ``boxes`` (N, 4) xyxy; 0 where both are empty."""
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    iw = np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0])
    ih = np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1])
    inter = np.maximum(iw, 0) * np.maximum(ih, 0)
    union = ((box[2] - box[0]) * (box[3] - box[1])
             + (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) - inter)
    return inter / np.maximum(union, 1e-9)


def pairwise_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every xywh box in ``a`` (N, 4) with every xywh box in ``b`` (M, 4), as (N, M).

    Boxes must have positive width and height (as validated tracks and detections have).
    """
    a_min, a_max = a[:, None, :2], a[:, None, :2] + a[:, None, 2:]
    b_min, b_max = b[None, :, :2], b[None, :, :2] + b[None, :, 2:]
    extent = np.clip(np.minimum(a_max, b_max) - np.maximum(a_min, b_min), 0.0, None)
    intersection = extent[..., 0] * extent[..., 1]
    union = a[:, None, 2] * a[:, None, 3] + b[None, :, 2] * b[None, :, 3] - intersection
    return intersection / union


def is_duplicate(a, b, iou_threshold: float) -> bool:
    """xyxy boxes overlap by IoU > iou_threshold, or one lies mostly (> 70 %) inside the
    other (a blending artefact of non-maximum suppression, not a second face)."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return False
    inter = iw * ih
    area_a = (a[2] - a[0]) * (a[3] - a[1])
    area_b = (b[2] - b[0]) * (b[3] - b[1])
    if inter > iou_threshold * (area_a + area_b - inter):
        return True
    return inter > _CONTAINED_FRACTION * min(area_a, area_b)


def pairwise_normalised_centre_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Centre distance of every xywh box pair divided by the pair's mean size sqrt(w*h)."""
    a_center = a[:, None, :2] + a[:, None, 2:] / 2.0
    b_center = b[None, :, :2] + b[None, :, 2:] / 2.0
    distance = np.linalg.norm(a_center - b_center, axis=-1)
    a_size = np.sqrt(a[:, None, 2] * a[:, None, 3])
    b_size = np.sqrt(b[None, :, 2] * b[None, :, 3])
    return distance / ((a_size + b_size) / 2.0)


def clip_to_image(x0: float, y0: float, x1: float, y1: float, width: int,
                  height: int) -> tuple:
    """Float xyxy box -> integer (x, y, w, h) rounded to the nearest pixel and clipped to a
    width x height image, with w and h >= 1 (a box fully outside keeps one edge pixel)."""
    ix0 = int(max(0, min(width - 1, math.floor(x0 + 0.5))))
    iy0 = int(max(0, min(height - 1, math.floor(y0 + 0.5))))
    ix1 = int(max(ix0 + 1, min(width, math.floor(x1 + 0.5))))
    iy1 = int(max(iy0 + 1, min(height, math.floor(y1 + 0.5))))
    return ix0, iy0, ix1 - ix0, iy1 - iy0


def square_around(cx: float, cy: float, size: float, scale: float) -> tuple:
    """Integer (x0, y0, side) of the square of side ``scale * size`` (at least 8 px) centred
    on (cx, cy): a face's surroundings enlarged around its centre."""
    side = max(8, int(round(size * scale)))
    return int(round(cx - side / 2)), int(round(cy - side / 2)), side
