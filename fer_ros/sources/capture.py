"""Sources read through cv2.VideoCapture: video files and V4L2 devices. ROS-free.

A damaged video makes FFmpeg log decoding errors to stderr on every pass, and a looping
source replays them forever. :func:`quiet_ffmpeg_after_first_pass` keeps FFmpeg's errors for
the first pass (so the damage is reported once) and silences them from the first loop on.
It calls ``av_log_set_level`` of the libavutil that OpenCV loaded: OpenCV offers no setting
for it (``cv2.setLogLevel`` only covers OpenCV's own log, and ``OPENCV_FFMPEG_LOGLEVEL`` is
read once, before the first capture, so it could only silence every pass).
"""

from __future__ import annotations

import ctypes
import glob
import os
from pathlib import Path

import cv2
import numpy as np

from fer_ros.sources.base import FrameSource, PathSource, SourceError

AV_LOG_QUIET = -8


def _opencv_libavutil() -> ctypes.CDLL | None:
    """The libavutil that cv2 uses (the wheel's bundled one, else the system's), or None."""
    here = Path(cv2.__file__).resolve().parent
    candidates = sorted(glob.glob(str(here.parent / "opencv_python*.libs" / "libavutil*.so*")))
    candidates += ["libavutil.so"]
    for name in candidates:
        try:
            lib = ctypes.CDLL(name, mode=os.RTLD_NOLOAD | os.RTLD_GLOBAL)
        except OSError:
            continue
        if hasattr(lib, "av_log_set_level"):
            return lib
    return None


def quiet_ffmpeg_after_first_pass() -> bool:
    """Silence FFmpeg's log (called before a video's second pass). True when it worked; a
    user who set OPENCV_FFMPEG_LOGLEVEL keeps the level they chose."""
    if os.environ.get("OPENCV_FFMPEG_LOGLEVEL"):
        return False
    lib = _opencv_libavutil()
    if lib is None:
        return False
    lib.av_log_set_level(ctypes.c_int(AV_LOG_QUIET))
    return True


def _valid_fps(fps: float) -> float | None:
    return float(fps) if fps and 0 < fps < 1000 else None


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


class VideoFileSource(PathSource, CaptureSource):
    """A video file; reopen() restarts it from its first frame."""

    kind = "video file"

    def __init__(self, path: str | os.PathLike, width: int = 0, height: int = 0,
                 max_pixels: int = 0) -> None:
        super().__init__(path, width, height, max_pixels)
        self._fps: float | None = None
        self._passes = 0
        self.reopen()

    def reopen(self) -> None:
        self.close()
        if self._passes == 1:
            quiet_ffmpeg_after_first_pass()
        cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"{self.description}: OpenCV cannot open it "
                              "(not a video, or an unsupported codec)")
        self._fps = _valid_fps(cap.get(cv2.CAP_PROP_FPS))
        self._cap = cap
        self._passes += 1

    @property
    def native_fps(self) -> float | None:
        return self._fps


class DeviceSource(CaptureSource):
    """A V4L2 camera, by index (``0``) or path (``/dev/video0``)."""

    live = True
    loopable = False

    def __init__(self, device: int | str, width: int = 0, height: int = 0,
                 fps: float = 0.0, max_pixels: int = 0) -> None:
        self.device = device
        super().__init__(f"camera device {device!r}", width, height, max_pixels)
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
        return None if self._cap is None else _valid_fps(self._cap.get(cv2.CAP_PROP_FPS))
