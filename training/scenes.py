"""Camera-like frames around a 48x48 face, for validation through the node's detector.

``render_scene(face, rng, backgrounds)`` pastes one grey training face into a larger frame:
a random part of a cluttered background photo, the face 60-200 px a side, anywhere inside
the frame, rotated in-plane by up to +-20 deg, with lighting (gain, offset, a brightness
gradient) and blur.  The face's square edge is feathered so that it does not show as a
hard frame.  Everything is drawn from ``rng``: a seeded generator gives the same frame.
ROS-free (NumPy + OpenCV; the default backgrounds need scikit-image).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

FRAME_SIZE = (640, 480)          # width, height
FACE_SIDE_PX = (60, 200)
MAX_ROLL_DEG = 20.0
GAIN = (0.6, 1.3)
OFFSET = (-40.0, 40.0)
GRADIENT = 40.0                  # largest brightness change across the frame
BLUR_SIGMA = (0.0, 1.5)
FEATHER = 0.04                   # fraction of the face side faded into the background

#: public-domain / freely licensed photos shipped inside scikit-image, without faces
BACKGROUND_PHOTOS = ("coffee", "chelsea", "rocket", "brick", "grass", "gravel", "coins",
                     "page", "text", "hubble_deep_field", "immunohistochemistry", "moon",
                     "horse", "clock", "cell", "colorwheel")


@dataclass(frozen=True)
class Scene:
    """A rendered frame (bgr8) and where the face is: centre (x, y), side and roll."""

    frame: np.ndarray
    cx: float
    cy: float
    side: float
    roll_deg: float


def default_backgrounds() -> list:
    """The BACKGROUND_PHOTOS as grey uint8 arrays (needs scikit-image)."""
    from skimage import data
    out = []
    for name in BACKGROUND_PHOTOS:
        image = np.asarray(getattr(data, name)())
        if image.dtype != np.uint8:
            image = (255 * (image.astype(np.float64) / max(float(image.max()), 1e-9))
                     ).astype(np.uint8)
        if image.ndim == 3:
            image = cv2.cvtColor(image[:, :, :3], cv2.COLOR_RGB2GRAY)
        out.append(image)
    return out


def _background(rng: np.random.Generator, backgrounds, width: int, height: int):
    photo = backgrounds[int(rng.integers(len(backgrounds)))]
    ph, pw = photo.shape[:2]
    # a random window of at least half the photo, stretched to the frame
    ww = int(rng.uniform(0.5, 1.0) * pw)
    wh = int(rng.uniform(0.5, 1.0) * ph)
    x0, y0 = int(rng.integers(pw - ww + 1)), int(rng.integers(ph - wh + 1))
    window = photo[y0:y0 + wh, x0:x0 + ww]
    if rng.random() < 0.5:
        window = window[:, ::-1]
    return cv2.resize(np.ascontiguousarray(window), (width, height),
                      interpolation=cv2.INTER_LINEAR).astype(np.float32)


def _feather_mask(side: int) -> np.ndarray:
    ramp = max(1, int(round(FEATHER * side)))
    edge = np.minimum(np.arange(side), np.arange(side)[::-1]).astype(np.float32)
    profile = np.clip((edge + 0.5) / ramp, 0.0, 1.0)
    return np.outer(profile, profile)


def render_scene(face: np.ndarray, rng: np.random.Generator, backgrounds,
                 frame_size=FRAME_SIZE) -> Scene:
    """One frame with ``face`` (a grey uint8 square) in it; ``backgrounds``: grey photos."""
    width, height = frame_size
    side = float(rng.uniform(*FACE_SIDE_PX))
    roll = float(rng.uniform(-MAX_ROLL_DEG, MAX_ROLL_DEG))
    # the rotated square's half extent, so that the whole face stays inside the frame
    half = side / 2 * (abs(math.cos(math.radians(roll))) + abs(math.sin(math.radians(roll))))
    cx = float(rng.uniform(half, width - half))
    cy = float(rng.uniform(half, height - half))
    frame = _background(rng, backgrounds, width, height)

    n = int(round(side))
    big = cv2.resize(face, (n, n), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    # face pixel (u, v) -> frame: rotate by roll about the face centre, then place it
    matrix = cv2.getRotationMatrix2D((n / 2, n / 2), roll, 1.0)
    matrix[:, 2] += (cx - n / 2, cy - n / 2)
    placed = cv2.warpAffine(big, matrix, (width, height), flags=cv2.INTER_LINEAR)
    alpha = cv2.warpAffine(_feather_mask(n), matrix, (width, height), flags=cv2.INTER_LINEAR)
    frame = alpha * placed + (1.0 - alpha) * frame

    gain, offset = rng.uniform(*GAIN), rng.uniform(*OFFSET)
    direction = rng.uniform(0, 2 * math.pi)
    xs, ys = np.meshgrid(np.linspace(-0.5, 0.5, width), np.linspace(-0.5, 0.5, height))
    gradient = GRADIENT * (math.cos(direction) * xs + math.sin(direction) * ys)
    frame = frame * gain + offset + gradient
    sigma = rng.uniform(*BLUR_SIGMA)
    if sigma > 0.3:
        frame = cv2.GaussianBlur(frame, (0, 0), sigma)
    grey = np.clip(frame, 0, 255).astype(np.uint8)
    return Scene(cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR), cx, cy, side, roll)


def find_face(scene: Scene, detections):
    """The detection that is the rendered face (centre within 0.3 of its side, box side
    0.4-1.5 of it, nearest the centre), or None."""
    best, best_distance = None, math.inf
    for det in detections:
        distance = math.hypot(det.x + det.w / 2 - scene.cx, det.y + det.h / 2 - scene.cy)
        size = math.sqrt(det.w * det.h)
        if (distance < 0.3 * scene.side and 0.4 * scene.side <= size <= 1.5 * scene.side
                and distance < best_distance):
            best, best_distance = det, distance
    return best
