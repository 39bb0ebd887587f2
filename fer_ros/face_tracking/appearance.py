"""What a face looks like, as a small vector the tracker compares: is this the same person?
ROS-free, NumPy + OpenCV.

The descriptor of a detection is the crop of its box (:mod:`fer_ros.face_crop`'s box framing;
not the eye framing: with a face half turned away the eye key points come and go, and the crop
would jump with them) widened to ``CROP_SCALE`` times the face so that the hair line and the
hair count, shrunk to ``SIDE`` x ``SIDE`` cells (``INTER_AREA``: the mean of each cell, so
sensor noise matters little), and in logarithms of the intensities (a change of exposure is
then an offset, which the mean takes away; light that changes on the face alone changes the
pattern less than on a linear scale):

* the log brightness of each cell minus their mean, blurred over about a cell (so the exact
  box matters little), scaled to unit length, and
* the colour of each cell as log(blue / red) and log(green / red) (skin and hair tone: blind
  to the exposure), blurred alike, scaled to length ``CHROMA_WEIGHT`` (less where the crop
  is nearly grey: a grey camera gives no colour part),

concatenated and scaled to unit length, so two descriptors compare by their dot product
(cosine similarity, 1 = identical).

Cost: one shrink of a view of the frame (no copy, no warp) and a few operations on 12x12
cells; see scripts/measure_appearance.py.  Chosen over the emotion CNN's penultimate
features: those are computed in the emotion node, after the face_detector has given the ids,
and they are trained to tell expressions apart, not people.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import cv2
import numpy as np

from fer_ros.face_crop import BOX_FRAMING, crop_geometry

__all__ = ["CHROMA_WEIGHT", "CROP_SCALE", "SIDE", "describe_face", "describe_faces"]

#: the crop is this many face sides wide: the face with its hair and a little around it, so
#: that a box placed 20 % of a face off (the close-up model and the search disagree that much
#: on a half-turned face) still sees mostly the same picture
CROP_SCALE = 2.0
#: descriptor cells per side
SIDE = 12
#: weight of the colour part against the lightness pattern
CHROMA_WEIGHT = 1.0
_FRAMING = BOX_FRAMING._replace(scale=CROP_SCALE)
# Gaussian blur of the cells (sigma, in cells): a box a fraction of a cell off matters less
_BLUR_CELLS = 1.0
# a brightness pattern flatter than this (log units, over all cells) carries no shape
_MIN_CONTRAST = 1e-3
# colour parts shorter than this (log units, over all cells; a skin-toned crop has ~7) are
# scaled down in proportion: nearly grey crops have no colour to compare
_FULL_CHROMA = 2.0


def describe_face(bgr: np.ndarray, det) -> np.ndarray | None:
    """The unit-length descriptor (float32) of detection ``det`` (its box x, y, w, h) in the
    bgr8 frame ``bgr``; None when its box is not wholly inside the frame (a face entering or
    leaving: its crop would be part repeated border) or the crop is flat."""
    height, width = bgr.shape[:2]
    if det.x < 0 or det.y < 0 or det.x + det.w > width or det.y + det.h > height:
        return None
    small = cv2.resize(_crop(bgr, det), (SIDE, SIDE), interpolation=cv2.INTER_AREA)
    if small.ndim == 2:
        small = cv2.cvtColor(small, cv2.COLOR_GRAY2BGR)
    log_bgr = np.log(small.astype(np.float32) + 1.0)
    brightness = log_bgr.mean(axis=2)
    brightness = cv2.GaussianBlur(brightness - brightness.mean(), (0, 0), _BLUR_CELLS)
    contrast = float(np.linalg.norm(brightness))
    if contrast < _MIN_CONTRAST:
        return None
    chroma = cv2.GaussianBlur(log_bgr[..., :2] - log_bgr[..., 2:], (0, 0), _BLUR_CELLS)
    colour = float(np.linalg.norm(chroma))
    chroma *= CHROMA_WEIGHT * min(1.0, colour / _FULL_CHROMA) / max(colour, 1e-12)
    vector = np.concatenate([brightness.ravel() / contrast, chroma.ravel()])
    return (vector / np.linalg.norm(vector)).astype(np.float32)


class _Box(NamedTuple):
    """A detection's box alone, so that the crop takes the box framing."""

    x: float
    y: float
    w: float
    h: float


def _crop(bgr: np.ndarray, det) -> np.ndarray:
    """The box framing's crop of ``det`` widened to CROP_SCALE, square, in whole frame pixels
    and a whole number of cells a side (OpenCV's INTER_AREA then takes its fast path: ~5x
    faster on a 400-pixel crop); no rotation, a view of the frame where the crop is inside it,
    else padded with the frame's border pixels."""
    box = _Box(float(det.x), float(det.y), float(det.w), float(det.h))   # no key points
    cx, cy, cw, ch, _ = crop_geometry(box, _FRAMING)
    side = SIDE * max(1, round((cw + ch) / 2 / SIDE))
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    x1, y1 = x0 + side, y0 + side
    height, width = bgr.shape[:2]
    inside = bgr[max(0, y0):min(height, y1), max(0, x0):min(width, x1)]
    if x0 >= 0 and y0 >= 0 and x1 <= width and y1 <= height:
        return inside
    return cv2.copyMakeBorder(inside, max(0, -y0), max(0, y1 - height), max(0, -x0),
                              max(0, x1 - width), cv2.BORDER_REPLICATE)


def describe_faces(bgr: np.ndarray, detections: Sequence) -> list[np.ndarray | None]:
    """:func:`describe_face` of each detection, in order."""
    return [describe_face(bgr, det) for det in detections]
