"""Annotate frames with face boxes and emotion labels.  ROS-free.

``draw_faces(bgr, faces)`` returns a new image (the input is never modified) with, for each
face, a rectangle and a filled caption "label 0.87 #id" in a colour chosen by the label.
Each face is drawn alone: a box partly outside the image is clipped to it, and a face that
cannot be drawn (box outside the image, empty, not finite) is skipped without touching the
others; :func:`draw_faces_counted` also says how many were skipped.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from fer_ros.preprocessing import to_bgr8

__all__ = ["AnnotatedFace", "LABEL_COLORS", "label_color", "caption", "clip_box",
           "draw_faces", "draw_faces_counted"]


@dataclass(frozen=True)
class AnnotatedFace:
    """What to draw for one face: box (x, y, w, h) in image pixels, label, confidence in
    [0, 1] (None: not shown), track id (0 or None: not shown)."""

    box: tuple[int, int, int, int]
    label: str | None = None
    confidence: float | None = None
    face_id: int | None = 0


# BGR colours of the usual FER classes
LABEL_COLORS = {
    "angry": (0, 0, 230),        # red
    "disgust": (0, 140, 0),      # green
    "fear": (170, 0, 170),       # purple
    "happy": (0, 215, 255),      # yellow
    "neutral": (200, 200, 200),  # light grey
    "sad": (230, 120, 0),        # blue
    "surprise": (0, 140, 255),   # orange
}
_PALETTE = [(255, 0, 255), (255, 255, 0), (0, 255, 128), (128, 0, 255), (0, 128, 128),
            (128, 128, 0), (255, 128, 128), (128, 255, 255)]
_NO_LABEL_COLOR = (0, 255, 0)
_FONT = cv2.FONT_HERSHEY_SIMPLEX
#: longer labels are cut: a crafted label of megabytes would make every frame slow to draw
MAX_LABEL_CHARS = 40


def label_color(label: str | None) -> tuple[int, int, int]:
    """BGR colour of a label: fixed for the usual classes, a stable hash-based one otherwise,
    green for no label."""
    if not label:
        return _NO_LABEL_COLOR
    key = str(label).strip().lower()
    if key in LABEL_COLORS:
        return LABEL_COLORS[key]
    return _PALETTE[zlib.crc32(key.encode("utf-8")) % len(_PALETTE)]


def caption(face) -> str:
    """The text drawn for a face: "label 0.87 #3" (parts left out when absent)."""
    parts = []
    if face.label:
        parts.append(str(face.label)[:MAX_LABEL_CHARS])
    if face.confidence is not None:
        parts.append(f"{float(face.confidence):.2f}")
    if face.face_id:
        parts.append(f"#{int(face.face_id)}")
    return " ".join(parts)


def _text_color(bg: tuple[int, int, int]) -> tuple[int, int, int]:
    b, g, r = bg
    luma = 0.114 * b + 0.587 * g + 0.299 * r
    return (0, 0, 0) if luma > 128 else (255, 255, 255)


def clip_box(box, width: int, height: int) -> tuple[int, int, int, int] | None:
    """``box`` (x, y, w, h) clipped to a ``width`` x ``height`` image, or None when nothing of
    it is inside (or a value is not a finite number). Keeps OpenCV's int32 coordinates safe:
    a uint32 RegionOfInterest can hold values up to 2**32 - 1."""
    try:
        x, y, w, h = (float(v) for v in box)
    except (TypeError, ValueError):
        return None
    if not all(math.isfinite(v) for v in (x, y, w, h)) or w <= 0 or h <= 0:
        return None
    x0, y0 = max(0.0, x), max(0.0, y)
    x1, y1 = min(float(width), x + w), min(float(height), y + h)
    if x1 - x0 < 1 or y1 - y0 < 1:
        return None
    left, top = int(round(x0)), int(round(y0))
    return left, top, max(1, int(round(x1)) - left), max(1, int(round(y1)) - top)


def draw_faces(bgr: np.ndarray, faces: Iterable) -> np.ndarray:
    """Return a copy of ``bgr`` with every face's box and caption drawn.

    ``faces``: AnnotatedFace objects (or anything with ``box``, ``label``, ``confidence``
    and ``face_id`` attributes).  A grey (H, W) input gives a BGR output.  Line width and font
    size follow the image size; the caption goes above the box, or inside it at the top when
    there is no room above, and is kept inside the image.
    """
    return draw_faces_counted(bgr, faces)[0]


def draw_faces_counted(bgr: np.ndarray, faces: Iterable) -> tuple[np.ndarray, int]:
    """:func:`draw_faces`, plus the number of faces skipped (nothing of their box to draw)."""
    if not isinstance(bgr, np.ndarray) or bgr.dtype != np.uint8:
        raise ValueError("draw_faces expects a uint8 numpy image")
    if bgr.ndim == 2 or (bgr.ndim == 3 and bgr.shape[2] == 1):
        out = to_bgr8(bgr)
    elif bgr.ndim == 3 and bgr.shape[2] == 3:
        out = bgr.copy(order="C")
    else:
        raise ValueError(f"draw_faces expects an (H, W, 3) or (H, W) image, got {bgr.shape}")
    H, W = out.shape[:2]
    skipped = 0
    if H == 0 or W == 0:
        return out, skipped
    short = min(H, W)
    thickness = max(2, int(round(short / 240)))
    font_scale = max(0.4, short / 960)
    font_thick = max(1, int(round(short / 480)))
    pad = max(2, int(round(short / 160)))
    for face in faces:
        box = clip_box(face.box, W, H)
        if box is None:
            skipped += 1
            continue
        x, y, w, h = box
        color = label_color(face.label)
        cv2.rectangle(out, (x, y), (x + w - 1, y + h - 1), color, thickness, cv2.LINE_8)
        text = caption(face)
        if not text:
            continue
        (tw, th), base = cv2.getTextSize(text, _FONT, font_scale, font_thick)
        bw, bh = tw + 2 * pad, th + base + 2 * pad
        bx = min(max(0, x), max(0, W - bw))
        by = y - bh if y - bh >= 0 else max(0, y)  # above the box, else inside its top
        by = min(by, max(0, H - bh))
        cv2.rectangle(out, (bx, by), (bx + bw - 1, by + bh - 1), color, cv2.FILLED)
        cv2.putText(out, text, (bx + pad, by + pad + th), _FONT, font_scale,
                    _text_color(color), font_thick, cv2.LINE_AA)
    return out, skipped
