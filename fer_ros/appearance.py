"""What a face looks like, as a small vector the tracker compares: is this the same person?
ROS-free, NumPy + OpenCV.

The descriptor of a detection is the crop of its box (:mod:`fer_ros.face_crop`'s box framing;
not the eye framing: with a face half turned away the eye key points come and go, and the crop
would jump with them) widened to ``CROP_SCALE`` times the face so that the hair line and the
hair count, shrunk to ``SIDE`` x ``SIDE`` cells (``INTER_AREA``: the mean of each cell, so sensor
noise matters little), blurred over about a cell (so the exact box matters little) and turned
into CIE Lab:

* the lightness pattern minus its mean, scaled to unit length (insensitive to the exposure:
  gain and offset), and
* the colour (a, b) of each cell, divided by the same length (skin and hair tone, also
  insensitive to the exposure's gain), weighted by ``CHROMA_WEIGHT``,

concatenated and scaled to unit length, so two descriptors compare by their dot product
(cosine similarity, 1 = identical).  A grey camera gives no colour part: the pattern alone.

Cost: the frame around the face is shrunk first, so the warp works on ~50x50 pixels whatever
the face's size.  Chosen over the emotion CNN's penultimate features: those are computed in
the emotion node, after the face_detector has given the ids, and they are trained to tell
expressions apart, not people.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import cv2
import numpy as np

from fer_ros.face_crop import BOX_FRAMING, crop_geometry, face_crop

__all__ = ["CHROMA_WEIGHT", "CROP_SCALE", "SIDE", "describe_face", "describe_faces"]

#: the crop is this many face sides wide: the face with its hair and a little around it, so
#: that a box placed 20 % of a face off (the close-up model and the search disagree that much
#: on a half-turned face) still sees mostly the same picture
CROP_SCALE = 2.0
#: descriptor cells per side
SIDE = 12
#: weight of the colour part against the lightness pattern
CHROMA_WEIGHT = 1.0
# the frame around a face is first shrunk (INTER_AREA) so that the crop is about this many
# pixels a side: the cost no longer grows with the face's size
_WORK_SIDE = 4 * SIDE
_FRAMING = BOX_FRAMING._replace(scale=CROP_SCALE)
# Gaussian blur of the cells (sigma, in cells): a box a fraction of a cell off matters less
_BLUR_CELLS = 1.0
# a lightness pattern flatter than this (grey levels, summed over the cells) carries no shape
_MIN_CONTRAST = 1e-3


def describe_face(bgr: np.ndarray, det) -> np.ndarray | None:
    """The unit-length descriptor (float32) of detection ``det`` (its box x, y, w, h) in the
    bgr8 frame ``bgr``; None when its box is not wholly inside the frame (a face entering or
    leaving: its crop would be part repeated border) or the crop is flat."""
    height, width = bgr.shape[:2]
    if det.x < 0 or det.y < 0 or det.x + det.w > width or det.y + det.h > height:
        return None
    region, face = _shrunk_region(bgr, det)
    crop = face_crop(region, face, box_framing=_FRAMING)
    if crop.ndim == 2:
        crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)
    small = cv2.resize(crop, (SIDE, SIDE), interpolation=cv2.INTER_AREA)
    lab = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2Lab).astype(np.float32), (0, 0),
                           _BLUR_CELLS)
    lightness = lab[..., 0] - lab[..., 0].mean()
    contrast = float(np.linalg.norm(lightness))
    if contrast < _MIN_CONTRAST:
        return None
    chroma = (lab[..., 1:] - 128.0) * (CHROMA_WEIGHT / contrast)
    vector = np.concatenate([lightness.ravel() / contrast, chroma.ravel()])
    return (vector / np.linalg.norm(vector)).astype(np.float32)


class _Box(NamedTuple):
    """A detection's box in another image's coordinates."""

    x: float
    y: float
    w: float
    h: float


def _shrunk_region(bgr: np.ndarray, det) -> tuple[np.ndarray, _Box]:
    """The part of the frame that the widened crop of ``det``'s box covers, shrunk so that
    the crop is about _WORK_SIDE pixels a side, and the box in its coordinates."""
    box = _Box(float(det.x), float(det.y), float(det.w), float(det.h))
    cx, cy, cw, ch, _ = crop_geometry(box, _FRAMING)
    reach = max(cw, ch) / 2
    height, width = bgr.shape[:2]
    x0, y0 = max(0, int(cx - reach)), max(0, int(cy - reach))
    x1, y1 = min(width, math.ceil(cx + reach)), min(height, math.ceil(cy + reach))
    region = bgr[y0:y1, x0:x1]
    scale = min(1.0, _WORK_SIDE / (2 * reach))
    if scale < 1.0:
        size = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
        region = cv2.resize(region, size, interpolation=cv2.INTER_AREA)
    kx, ky = region.shape[1] / (x1 - x0), region.shape[0] / (y1 - y0)
    return region, _Box((box.x - x0) * kx, (box.y - y0) * ky, box.w * kx, box.h * ky)


def describe_faces(bgr: np.ndarray, detections: Sequence) -> list[np.ndarray | None]:
    """:func:`describe_face` of each detection, in order."""
    return [describe_face(bgr, det) for det in detections]
