"""Image normalisation, ROS-free: any grey / BGR(A) array -> bgr8 or grey, and face crops ->
the emotion-model input batch.

The emotion CNN (see docs/DESIGN.md) takes (N, 48, 48, 1) float32 grey images with values in
[0, 255]; normalisation is part of the model itself, so none happens here.
"""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

__all__ = ["MODEL_INPUT_SIZE", "to_bgr8", "gray_channels", "to_gray", "to_model_input"]

MODEL_INPUT_SIZE = 48


def to_bgr8(frame: np.ndarray) -> np.ndarray:
    """Convert a gray / BGRA / 16-bit frame to contiguous BGR uint8."""
    if frame.dtype != np.uint8:
        if frame.dtype == np.uint16:
            frame = (frame >> 8).astype(np.uint8)
        else:
            frame = np.clip(frame, 0, 255).astype(np.uint8)
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[:, :, 0]
    if frame.ndim == 2:
        frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    elif frame.ndim == 3 and frame.shape[2] == 4:
        frame = cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(frame)


def gray_channels(img: np.ndarray) -> np.ndarray:
    """(H, W) grey of the same dtype from a BGR (H, W, 3), BGRA (H, W, 4) or grey
    (H, W[, 1]) image (OpenCV converts uint8, uint16 and float32)."""
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    if img.ndim == 2:
        return img
    if img.ndim == 3 and img.shape[2] == 3:
        return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    if img.ndim == 3 and img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2GRAY)
    raise ValueError(f"expected an (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) image, "
                     f"got shape {img.shape}")


def to_gray(img: np.ndarray) -> np.ndarray:
    """(H, W) uint8 grey from a bgr8 (H, W, 3), bgra8 (H, W, 4) or grey (H, W[, 1]) image."""
    if not isinstance(img, np.ndarray):
        raise TypeError(f"expected a numpy array, got {type(img).__name__}")
    if img.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {img.dtype}")
    return gray_channels(img)


def to_model_input(crops: Iterable[np.ndarray], size: int = MODEL_INPUT_SIZE) -> np.ndarray:
    """Stack face crops into a (N, size, size, 1) float32 batch with values in [0, 255].

    Each crop (any size, bgr8 or grey, views allowed) is converted to grey and resized to
    size x size (INTER_AREA when shrinking, INTER_LINEAR when enlarging; the aspect ratio is
    not kept, detector boxes are square anyway).  No crop is modified.  An empty input gives
    a (0, size, size, 1) array.  Raises ValueError for an empty (0-pixel) crop.
    """
    crops = list(crops)
    out = np.empty((len(crops), size, size, 1), np.float32)
    for i, c in enumerate(crops):
        if isinstance(c, np.ndarray) and c.ndim >= 2 and (c.shape[0] == 0 or c.shape[1] == 0):
            raise ValueError(f"crop {i} is empty ({c.shape[1]}x{c.shape[0]})")
        g = to_gray(c)
        h, w = g.shape
        if (h, w) != (size, size):
            interp = cv2.INTER_AREA if (h > size and w > size) else cv2.INTER_LINEAR
            g = cv2.resize(g, (size, size), interpolation=interp)
        out[i, :, :, 0] = g
    return out
