"""Video files the bench renders and plays: writing a clip, reading its frame rate.

Shared by :mod:`benchlib.inputs` and :mod:`benchlib.hard_clip`; imports nothing of either.
OpenCV is imported when a video is written or read, not with the module.
"""

from __future__ import annotations

import os
from pathlib import Path


def write_video(path: Path, frames, fps: float, size: tuple[int, int]) -> None:
    """Write bgr8 frames as mp4v to ``path`` atomically (a temp file renamed at the end)."""
    import cv2

    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.mp4")
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {tmp}")
    try:
        for frame in frames:
            writer.write(frame)
    finally:
        writer.release()
    tmp.replace(path)


def video_fps(path: Path) -> float:
    """The frame rate a video file declares (30.0 when it declares none or cannot be read)."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    try:
        fps = cap.get(cv2.CAP_PROP_FPS) if cap.isOpened() else 0.0
    finally:
        cap.release()
    return float(fps) if fps and fps > 0 else 30.0
