"""Face crops: a detection -> the image the emotion model sees.  ROS-free, NumPy + OpenCV.

The node sends ``node_crop`` (``NODE_CROP`` of ``CROPS``): the detector box turned upright
on the eye line (``upright_box_crop``; the box itself without eye key points).  The
training faces are re-framed the same way (training/reframe.py).

The canonical crop (``face_crop``) frames a face like the original FER2013 faces (upright,
with their fixed margin): with the detector's eye key points (BlazeFace) it is rotated so
that the eye line is horizontal and placed relative to the eyes (``EYE_FRAMING``); without
them (Haar) it is the detector box moved and scaled (``BOX_FRAMING``).  Both were measured
on the training faces by ``training/fit_face_crop.py`` (see the constants).  Every crop
keeps the frame's resolution (one frame pixel per crop pixel, or ``side`` pixels a side);
the emotion path resizes it to the model input.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import cv2
import numpy as np

from fer_ros.boxes import clip_to_image

__all__ = ["Framing", "BOX_FRAMING", "EYE_FRAMING", "IDENTITY_FRAMING", "face_crop",
           "crop_geometry", "upright_box_geometry", "warp_crop", "box_crop",
           "upright_box_crop", "CROPS", "NODE_CROP", "node_crop"]


class Framing(NamedTuple):
    """Where the crop lies relative to a face: its centre is the reference point (the box
    centre or the eye midpoint) plus (dx, dy) times the unit, its side ``scale`` times the
    unit; the unit is the box side, the offsets are taken in the face's upright frame."""

    dx: float
    dy: float
    scale: float


IDENTITY_FRAMING = Framing(0.0, 0.0, 1.0)

#: Box fallback: crop centre = box centre + (dx * w, dy * h), sides = scale * (w, h).
#: Measured by training/fit_face_crop.py (seed 0): medians over the BlazeFace boxes found on
#: 2,124 of 3,000 TRAIN faces (48x48 upscaled 4x, edge-replicated into a 384x384 frame);
#: interquartile ranges dx [-0.015, 0.027], dy [-0.076, -0.002], scale [1.08, 1.28].  The raw
#: box is 0.86 of a training crop's side and sits a little low.
BOX_FRAMING = Framing(0.005, -0.038, 1.164)

#: Eye framing: in the frame rotated so that the eye line is horizontal, crop centre = eye
#: midpoint + (dx, dy) * box side, crop side = scale * box side.  Measured by
#: training/fit_face_crop.py on the same TRAIN faces (medians; IQR dx [-0.014, 0.029],
#: dy [0.096, 0.149]).  The training faces' own eye lines tilt by -0.2 deg (median, IQR
#: [-4.9, 4.1]): upright is horizontal.
EYE_FRAMING = Framing(0.006, 0.120, 1.164)

# eyes closer than this fraction of the box side are a bad key point fit: use the box
_MIN_EYE_DISTANCE = 0.15


def _eye_angle(det, unit: float):
    """The eye line's angle (radians) and the eye midpoint, or None without usable eyes."""
    points = getattr(det, "keypoints", None)
    if points is None or len(points) < 2:
        return None
    (rx, ry), (lx, ly) = points[0], points[1]   # subject's right eye, left eye
    if math.hypot(lx - rx, ly - ry) < _MIN_EYE_DISTANCE * unit:
        return None
    return math.atan2(ly - ry, lx - rx), ((rx + lx) / 2, (ry + ly) / 2)


def crop_geometry(det, box_framing: Framing = BOX_FRAMING,
                  eye_framing: Framing = EYE_FRAMING) -> tuple:
    """(cx, cy, width, height, angle_deg) of the crop for ``det`` in frame pixels; the angle
    is the eye line's (counter-clockwise positive in image coordinates, y down), 0 for the
    box fallback."""
    w, h = float(det.w), float(det.h)
    unit = math.sqrt(w * h)
    eyes = _eye_angle(det, unit)
    if eyes is not None:
        angle, (mx, my) = eyes
        c, s = math.cos(angle), math.sin(angle)
        dx, dy = eye_framing.dx * unit, eye_framing.dy * unit
        # the offset is upright-frame: rotate it into the frame
        side = eye_framing.scale * unit
        return mx + c * dx - s * dy, my + s * dx + c * dy, side, side, math.degrees(angle)
    cx = det.x + w / 2 + box_framing.dx * w
    cy = det.y + h / 2 + box_framing.dy * h
    return cx, cy, box_framing.scale * w, box_framing.scale * h, 0.0


def upright_box_geometry(det) -> tuple:
    """(cx, cy, width, height, angle_deg) of the detector box turned upright on the eye line
    about its centre (the box itself without usable eyes)."""
    w, h = float(det.w), float(det.h)
    eyes = _eye_angle(det, math.sqrt(w * h))
    angle = 0.0 if eyes is None else math.degrees(eyes[0])
    return det.x + w / 2, det.y + h / 2, w, h, angle


def face_crop(bgr: np.ndarray, det, side: int | None = None,
              box_framing: Framing = BOX_FRAMING,
              eye_framing: Framing = EYE_FRAMING) -> np.ndarray:
    """The canonical crop of ``det`` (a Detection; key points optional) from ``bgr`` (any
    (H, W[, C]) uint8 image): upright, framed like the training faces, a new array.

    ``side``: output side in pixels (square output); default: the crop's own size in frame
    pixels (at least 1).  Parts outside the frame repeat its border pixels.
    """
    return warp_crop(bgr, crop_geometry(det, box_framing, eye_framing), side)


def upright_box_crop(bgr: np.ndarray, det, side: int | None = None) -> np.ndarray:
    """The detector box turned upright on the eye line (``upright_box_geometry``)."""
    return warp_crop(bgr, upright_box_geometry(det), side)


def warp_crop(bgr: np.ndarray, geometry: tuple, side: int | None = None) -> np.ndarray:
    """The crop (cx, cy, width, height, angle_deg) = ``geometry`` of ``bgr``, upright; see
    ``face_crop`` for ``side`` and the border."""
    if side is not None and int(side) < 1:
        raise ValueError(f"side must be >= 1, got {side}")
    cx, cy, cw, ch, angle = geometry
    if side is None:   # frame resolution: the crop covers its size rounded to whole pixels
        out_w, out_h = max(1, int(round(cw))), max(1, int(round(ch)))
        kx = ky = 1.0
    else:
        out_w = out_h = int(side)
        kx, ky = out_w / max(cw, 1e-6), out_h / max(ch, 1e-6)
    # frame -> crop in pixel-index coordinates (a pixel's centre is its index, so the
    # geometry's centre (cx, cy), in pixel-edge coordinates, is at (cx - 0.5, cy - 0.5)):
    # rotate by -angle about the centre, scale, and put it at the output's centre.  An
    # upright crop at frame resolution with whole-pixel corners copies pixels exactly.
    matrix = np.array([[kx, 0.0], [0.0, ky]]) @ cv2.getRotationMatrix2D(
        (cx - 0.5, cy - 0.5), angle, 1.0)
    matrix[:, 2] += (out_w / 2 - 0.5 - kx * (cx - 0.5), out_h / 2 - 0.5 - ky * (cy - 0.5))
    return cv2.warpAffine(bgr, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def box_crop(bgr: np.ndarray, det) -> np.ndarray:
    """The detector box itself, clipped to the frame (at least 1 x 1 pixel), a new array:
    the ``raw`` crop, and the plain crop that ROS4HRI publishes as ``cropped``."""
    height, width = bgr.shape[:2]
    x, y, w, h = clip_to_image(float(det.x), float(det.y), float(det.x) + float(det.w),
                               float(det.y) + float(det.h), width, height)
    return bgr[y:y + h, x:x + w].copy()


#: the crops the node can send, by name: the canonical crop, the raw detector box, and the
#: box turned upright on the eye line
CROPS = {"canonical": face_crop, "raw": box_crop, "upright": upright_box_crop}

#: the crop the face_detector node sends (fer_ros.messages.detections_to_msg), every
#: evaluation of the node's path uses and training/reframe.py trains on.  Chosen among CROPS
#: with the int8 model of 6bdb256 (docs/TRAINING.md, "The node's crop"): the upright box is
#: ahead on both FER2013 validation through the detector (63.5 % of the faces found vs 62.8
#: canonical, 62.1 raw) and the real photographs (69.9 % of 289 vs 64.4 and 67.8).
NODE_CROP = "upright"


def node_crop(bgr: np.ndarray, det) -> np.ndarray:
    """The face crop the face_detector node publishes for ``det``."""
    return CROPS[NODE_CROP](bgr, det)
