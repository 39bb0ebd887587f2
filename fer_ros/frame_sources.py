"""Frame sources for the camera node (ROS-free).

``open_source(spec)`` turns the camera node's ``source`` parameter into a :class:`FrameSource`:

=======================================  ==============================================
``sample`` (default)                      the built-in sample clip
                                          (:func:`fer_ros.sample_clip.sample_clip_path`)
``0``, ``1``, ``/dev/video0``,            a V4L2 camera (``v4l2:`` prefix optional)
``v4l2:/dev/video2``
a video file (``.mp4``, ``.avi``, ...)    read with OpenCV
an image file (``.jpg``, ``.png``...)     the same frame, again and again
a folder                                  its image files in name order
a rosbag2 bag: a folder with              the images of one topic (``bag_topic``, default
``metadata.yaml``, a ``.db3`` or          the first image topic), see
``.mcap`` file (``bag:`` prefix optional) :class:`fer_ros.bag_source.BagSource`
=======================================  ==============================================

(The bag source needs rclpy to deserialise the recorded messages; the others do not.)

Every source returns BGR ``uint8`` frames of shape (H, W, 3). ``read()`` returns ``None`` at
the end of a finite source or when a live device stops delivering; ``reopen()`` starts a
finite source again (loop) or reconnects a device. Problems opening a source raise
:class:`SourceError` with a message that names the source.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import cv2
import numpy as np

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm")
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".mpg", ".mpeg", ".m4v", ".gif")
BAG_SUFFIXES = (".db3", ".mcap")      # rosbag2 storage files (SQLite, MCAP)
DEFAULT_FPS = 30.0


class SourceError(RuntimeError):
    """A frame source cannot be opened (the message names the source and the reason)."""


def to_bgr8(frame: np.ndarray) -> np.ndarray:
    """Convert a gray / BGRA / 16-bit frame to contiguous BGR uint8."""
    if frame.dtype != np.uint8:
        if frame.dtype == np.uint16:
            frame = (frame >> 8).astype(np.uint8)
        else:
            frame = np.clip(frame, 0, 255).astype(np.uint8)
    if frame.ndim == 2:
        frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    elif frame.ndim == 3 and frame.shape[2] == 1:
        frame = cv2.cvtColor(frame[:, :, 0], cv2.COLOR_GRAY2BGR)
    elif frame.ndim == 3 and frame.shape[2] == 4:
        frame = cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(frame)


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
    """Base class. Subclasses implement ``_read_raw`` and ``reopen``."""

    #: True for live devices: the end of the stream is a failure, reopening reconnects.
    live = False
    #: True when reopen() restarts the stream from its first frame.
    loopable = True

    def __init__(self, description: str, width: int = 0, height: int = 0) -> None:
        self.description = description
        self.width = int(width)
        self.height = int(height)
        self.frames_read = 0

    @property
    def native_fps(self) -> float | None:
        """Frame rate the source reports, or None when it has none (images)."""
        return None

    def read(self) -> np.ndarray | None:
        frame = self._read_raw()
        if frame is None:
            return None
        self.frames_read += 1
        return resize_to(to_bgr8(frame), self.width, self.height)

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


class CaptureSource(FrameSource):
    """A source read through a cv2.VideoCapture (``self._cap``, opened by ``reopen``)."""

    _cap: cv2.VideoCapture | None = None

    def _read_raw(self) -> np.ndarray | None:
        if self._cap is None:
            return None
        ok, frame = self._cap.read()
        return frame if ok and frame is not None else None

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class VideoFileSource(CaptureSource):
    def __init__(self, path: str | os.PathLike, width: int = 0, height: int = 0) -> None:
        self.path = Path(path)
        super().__init__(f"video file '{self.path}'", width, height)
        if not self.path.is_file():
            raise SourceError(f"{self.description}: no such file")
        self._fps: float | None = None
        self.reopen()

    def reopen(self) -> None:
        self.close()
        cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"{self.description}: OpenCV cannot open it "
                              "(not a video, or an unsupported codec)")
        fps = cap.get(cv2.CAP_PROP_FPS)
        self._fps = float(fps) if fps and 0 < fps < 1000 else None
        self._cap = cap

    @property
    def native_fps(self) -> float | None:
        return self._fps


class DeviceSource(CaptureSource):
    """A V4L2 camera, by index (``0``) or path (``/dev/video0``)."""

    live = True
    loopable = False

    def __init__(self, device: int | str, width: int = 0, height: int = 0,
                 fps: float = 0.0) -> None:
        self.device = device
        super().__init__(f"camera device {device!r}", width, height)
        self.requested_fps = float(fps)
        self.reopen()

    def reopen(self) -> None:
        self.close()
        if isinstance(self.device, str) and not os.path.exists(self.device):
            raise SourceError(f"{self.description}: no such device")
        backend = getattr(cv2, "CAP_V4L2", cv2.CAP_ANY)
        cap = cv2.VideoCapture(self.device, backend)
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"{self.description}: cannot open it (missing, busy, or no "
                              "permission on the /dev/video* node)")
        if self.width > 0:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
        if self.height > 0:
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        if self.requested_fps > 0:
            cap.set(cv2.CAP_PROP_FPS, self.requested_fps)
        self._cap = cap

    @property
    def native_fps(self) -> float | None:
        if self._cap is None:
            return None
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        return float(fps) if fps and 0 < fps < 1000 else None



def _read_image(path: Path) -> np.ndarray:
    frame = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if frame is None:
        raise SourceError(f"image file '{path}': OpenCV cannot decode it")
    return frame


class ImageFileSource(FrameSource):
    """One still image; each read returns it again (one read per loop when not looping)."""

    def __init__(self, path: str | os.PathLike, width: int = 0, height: int = 0) -> None:
        self.path = Path(path)
        super().__init__(f"image file '{self.path}'", width, height)
        if not self.path.is_file():
            raise SourceError(f"{self.description}: no such file")
        self._frame = _read_image(self.path)
        self._done = False

    def _read_raw(self) -> np.ndarray | None:
        if self._done:
            return None
        self._done = True
        return self._frame.copy()

    def reopen(self) -> None:
        self._done = False


class ImageFolderSource(FrameSource):
    """The image files of a folder, in file-name order."""

    def __init__(self, path: str | os.PathLike, width: int = 0, height: int = 0) -> None:
        self.path = Path(path)
        super().__init__(f"image folder '{self.path}'", width, height)
        if not self.path.is_dir():
            raise SourceError(f"{self.description}: no such folder")
        self.files = sorted(p for p in self.path.iterdir()
                            if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
        if not self.files:
            raise SourceError(f"{self.description}: contains no image files "
                              f"({', '.join(IMAGE_EXTENSIONS)})")
        self._index = 0
        self.skipped: list[Path] = []  # undecodable files, skipped

    def _read_raw(self) -> np.ndarray | None:
        while self._index < len(self.files):
            path = self.files[self._index]
            self._index += 1
            frame = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
            if frame is not None:
                return frame
            # An undecodable file in a folder is skipped, not fatal.
            self.skipped.append(path)
        return None

    def reopen(self) -> None:
        self._index = 0


_DEVICE_RE = re.compile(r"^(?:v4l2:)?(\d+)$")


def describe_spec(spec: str) -> str:
    """What kind of source ``spec`` names (for logs and docs)."""
    spec = spec.strip()
    if spec in ("", "sample"):
        return "sample"
    if _DEVICE_RE.match(spec) or spec.startswith("/dev/video") or spec.startswith("v4l2:"):
        return "device"
    if spec.startswith("bag:"):
        return "bag"
    path = Path(spec).expanduser()
    if is_bag_path(path):
        return "bag"
    if path.is_dir():
        return "folder"
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        return "image"
    return "video"


def is_bag_path(path: Path) -> bool:
    """A rosbag2 bag: a folder holding metadata.yaml, or a .db3 / .mcap storage file."""
    if path.is_dir():
        return (path / "metadata.yaml").is_file()
    return path.suffix.lower() in BAG_SUFFIXES


def open_source(spec: str, width: int = 0, height: int = 0, fps: float = 0.0,
                bag_topic: str = "") -> FrameSource:
    """Open the source named by ``spec`` (see the module docstring)."""
    spec = (spec or "").strip()
    kind = describe_spec(spec)
    if kind == "sample":
        from fer_ros.sample_clip import sample_clip_path

        return VideoFileSource(sample_clip_path(), width, height)
    if kind == "device":
        dev = spec[len("v4l2:"):] if spec.startswith("v4l2:") else spec
        match = re.match(r"^\d+$", dev)
        return DeviceSource(int(dev) if match else dev, width, height, fps)
    if kind == "bag":
        from fer_ros.bag_source import BagSource

        return BagSource(spec[len("bag:"):] if spec.startswith("bag:") else spec, bag_topic,
                         width, height)
    path = Path(spec).expanduser()
    if kind == "folder":
        return ImageFolderSource(path, width, height)
    if not path.exists():
        raise SourceError(f"source '{spec}': no such file, folder or device "
                          "(expected 'sample', a device index or /dev/video*, a video or "
                          "image file, or a folder of images)")
    if kind == "image":
        return ImageFileSource(path, width, height)
    return VideoFileSource(path, width, height)
