"""Still-image sources: one image file, or the image files of a folder. ROS-free."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from fer_ros.sources.base import PathSource, SourceError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm")


def _read_image(path: Path) -> np.ndarray | None:
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)


class ImageFileSource(PathSource):
    """One still image; each read returns it again (one read per loop when not looping)."""

    kind = "image file"

    def __init__(self, path: str | os.PathLike, width: int = 0, height: int = 0,
                 max_pixels: int = 0) -> None:
        super().__init__(path, width, height, max_pixels)
        self._frame = _read_image(self.path)
        if self._frame is None:
            raise SourceError(f"{self.description}: OpenCV cannot decode it")
        problem = self.oversized(self._frame.shape[1], self._frame.shape[0])
        if problem:
            raise SourceError(f"{self.description}: {problem}")
        self._done = False

    def _read_raw(self) -> np.ndarray | None:
        if self._done:
            return None
        self._done = True
        return self._frame.copy()

    def reopen(self) -> None:
        self._done = False


class ImageFolderSource(PathSource):
    """The image files of a folder, in file-name order; undecodable files are skipped (their
    paths listed in ``skipped``), a folder where none decodes fails to open."""

    kind = "image folder"
    folder = True

    def __init__(self, path: str | os.PathLike, width: int = 0, height: int = 0,
                 max_pixels: int = 0) -> None:
        super().__init__(path, width, height, max_pixels)
        self.files = sorted(p for p in self.path.iterdir()
                            if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
        if not self.files:
            raise SourceError(f"{self.description}: contains no image files "
                              f"({', '.join(IMAGE_EXTENSIONS)})")
        self._index = 0
        self._first = self._read_raw()      # proves that one file decodes; read() returns it
        if self._first is None:
            raise SourceError(f"{self.description}: none of its {len(self.files)} image "
                              "files can be decoded")

    def _read_raw(self) -> np.ndarray | None:
        if getattr(self, "_first", None) is not None:
            frame, self._first = self._first, None
            return frame
        while self._index < len(self.files):
            path = self.files[self._index]
            self._index += 1
            frame = _read_image(path)
            if frame is not None:
                return frame
            self.skipped.append(path)
        return None

    def reopen(self) -> None:
        self._first = None
        self._index = 0
