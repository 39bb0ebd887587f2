"""What every frame source shares: :class:`FrameSource`, :class:`SourceError` and the frame
normalisation (BGR uint8, requested size, pixel budget). ROS-free."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from fer_ros.budget import oversized_image
from fer_ros.errors import StartupError
from fer_ros.preprocessing import to_bgr8

BAG_SUFFIXES = (".db3", ".mcap")      # rosbag2 storage files (SQLite, MCAP)


class SourceError(StartupError):
    """A frame source cannot be opened (the message names the source and the reason)."""


def is_bag_path(path: Path) -> bool:
    """A rosbag2 bag: a folder holding metadata.yaml, or a .db3 / .mcap storage file."""
    if path.is_dir():
        return (path / "metadata.yaml").is_file()
    return path.suffix.lower() in BAG_SUFFIXES


def target_size(src_w: int, src_h: int, width: int, height: int) -> tuple[int, int]:
    """Output size for requested ``width``/``height`` (0 = keep / follow the aspect ratio)."""
    if width > 0 and height > 0:
        return width, height
    if width > 0:
        return width, max(1, round(src_h * width / src_w))
    if height > 0:
        return max(1, round(src_w * height / src_h)), height
    return src_w, src_h


def resize_to(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    h, w = frame.shape[:2]
    tw, th = target_size(w, h, width, height)
    if (tw, th) == (w, h):
        return frame
    interp = cv2.INTER_AREA if tw * th < w * h else cv2.INTER_LINEAR
    return cv2.resize(frame, (tw, th), interpolation=interp)


class FrameSource:
    """Base class. Subclasses implement ``_read_raw`` and ``reopen``.

    ``skipped`` lists the frames a source passed over (undecodable, over ``max_pixels``): a
    file path or a text each; the camera node counts and reports them.
    """

    #: True for live devices: the end of the stream is a failure, reopening reconnects.
    live = False
    #: True when reopen() restarts the stream from its first frame.
    loopable = True

    def __init__(self, description: str, width: int = 0, height: int = 0,
                 max_pixels: int = 0) -> None:
        self.description = description
        self.width = int(width)
        self.height = int(height)
        self.max_pixels = int(max_pixels)
        self.skipped: list[object] = []

    @property
    def native_fps(self) -> float | None:
        """Frame rate the source reports, or None when it has none (images)."""
        return None

    def oversized(self, width: int, height: int) -> str | None:
        """Why a ``width`` x ``height`` frame is over the pixel budget, or None."""
        return oversized_image(width, height, self.max_pixels)

    def read(self) -> np.ndarray | None:
        """The next frame (BGR uint8, requested size), skipping oversized ones; None at the
        end."""
        while True:
            frame = self._read_raw()
            if frame is None:
                return None
            problem = self.oversized(frame.shape[1], frame.shape[0])
            if problem is None:
                return resize_to(to_bgr8(frame), self.width, self.height)
            del frame                       # release it before decoding the next one
            self.skipped.append(problem)

    def _read_raw(self) -> np.ndarray | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def reopen(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.description}>"


class PathSource(FrameSource):
    """A source read from a path that must name an existing file (``folder``: a folder);
    ``kind`` names the source in messages ("image file '<path>'")."""

    kind = "file"
    folder = False

    def __init__(self, path: str | os.PathLike, width: int = 0, height: int = 0,
                 max_pixels: int = 0) -> None:
        self.path = Path(path)
        super().__init__(f"{self.kind} '{self.path}'", width, height, max_pixels)
        if not (self.path.is_dir() if self.folder else self.path.is_file()):
            raise SourceError(f"{self.description}: no such "
                              f"{'folder' if self.folder else 'file'}")
