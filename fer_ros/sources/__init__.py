"""Frame sources for the camera node (ROS-free).

``open_source(spec)`` turns the camera node's ``source`` parameter into a :class:`FrameSource`:

=======================================  ==============================================
``sample`` (default)                      the built-in sample clip
                                          (:func:`fer_ros.sample_clip.sample_clip_path`)
``0``, ``1``, ``/dev/video0``,            a V4L2 camera (``v4l2:`` prefix optional),
``v4l2:/dev/video2``                      :class:`~fer_ros.sources.capture.DeviceSource`
a video file (``.mp4``, ``.avi``, ...)    read with OpenCV (:mod:`fer_ros.sources.capture`)
an image file (``.jpg``, ``.png``...)     the same frame, again and again
a folder                                  its image files in name order
                                          (:mod:`fer_ros.sources.files`)
a rosbag2 bag: a folder with              the images of one topic (``bag_topic``, default
``metadata.yaml``, a ``.db3`` or          the first image topic), see
``.mcap`` file (``bag:`` prefix optional) :class:`fer_ros.sources.bag.BagSource`
=======================================  ==============================================

(The bag source needs rclpy to deserialise the recorded messages; the others do not.)

Every source returns BGR ``uint8`` frames of shape (H, W, 3). ``read()`` returns ``None`` at
the end of a finite source or when a live device stops delivering; ``reopen()`` starts a
finite source again (loop) or reconnects a device. Problems opening a source raise
:class:`SourceError` with a message that names the source. Frames over ``max_pixels`` are
skipped (listed in ``skipped``), so one huge file cannot blow up the camera's memory.
"""

from __future__ import annotations

import re
from pathlib import Path

from fer_ros.sources.base import FrameSource, SourceError, is_bag_path
from fer_ros.sources.capture import DeviceSource, VideoFileSource
from fer_ros.sources.files import IMAGE_EXTENSIONS, ImageFileSource, ImageFolderSource

__all__ = ["FrameSource", "SourceError", "describe_spec", "open_source"]

_DEVICE_RE = re.compile(r"^(?:v4l2:)?(\d+)$")


def describe_spec(spec: str) -> str:
    """What kind of source ``spec`` names: sample, device, bag, folder, image or video."""
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


def open_source(spec: str, width: int = 0, height: int = 0, fps: float = 0.0,
                bag_topic: str = "", max_pixels: int = 0) -> FrameSource:
    """Open the source named by ``spec`` (see the module docstring); ``max_pixels`` > 0
    skips larger frames."""
    spec = (spec or "").strip()
    kind = describe_spec(spec)
    size = dict(width=width, height=height, max_pixels=max_pixels)
    if kind == "sample":
        from fer_ros.sample_clip import sample_clip_path

        return VideoFileSource(sample_clip_path(), **size)
    if kind == "device":
        dev = spec[len("v4l2:"):] if spec.startswith("v4l2:") else spec
        return DeviceSource(int(dev) if dev.isdigit() else dev, fps=fps, **size)
    if kind == "bag":
        from fer_ros.sources.bag import BagSource

        return BagSource(spec[len("bag:"):] if spec.startswith("bag:") else spec, bag_topic,
                         **size)
    path = Path(spec).expanduser()
    if kind == "folder":
        return ImageFolderSource(path, **size)
    if not path.exists():
        raise SourceError(f"source '{spec}': no such file, folder or device "
                          "(expected 'sample', a device index or /dev/video*, a video or "
                          "image file, or a folder of images)")
    if kind == "image":
        return ImageFileSource(path, **size)
    return VideoFileSource(path, **size)
