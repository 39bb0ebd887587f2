"""sensor_msgs Image / CompressedImage <-> NumPy BGR conversion for the nodes.

Uses cv_bridge when it can be imported (a ROS install from apt / source) and
:mod:`fer_ros.image_encoding` otherwise (the PyPI wheels have no working cv_bridge). Set the
environment variable ``FER_ROS_NO_CV_BRIDGE=1`` to force the pure-Python path.

Input nodes pick their image message type with the ``image_transport`` parameter
(:data:`IMAGE_TRANSPORT_PARAM`, image_transport's names): ``raw`` subscribes to
sensor_msgs/Image on ``<image>``, ``compressed`` to sensor_msgs/CompressedImage (JPEG / PNG,
decoded with OpenCV, no cv_bridge) on ``<image>/compressed`` (see :func:`image_input`).

Every decoding problem (unknown encoding, step / data size mismatch, zero size) raises
:class:`ImageEncodingError` (a ``ValueError``) with a message that says what is wrong, so a
node can reject the frame, count it and carry on.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Header

from fer_ros.budget import oversized_image
from fer_ros.image_encoding import (
    ImageEncodingError,
    bgr_to_image_fields,
    compressed_to_bgr,
    encode_jpeg,
    message_fields_to_bgr,
)
from fer_ros.parameters import ParamSpec

__all__ = ["ImageEncodingError", "image_msg_to_bgr", "bgr_to_image_msg",
           "bgr_to_compressed_msg", "using_cv_bridge", "copy_header", "IMAGE_TRANSPORTS",
           "IMAGE_TRANSPORT_PARAM", "ImageInput", "image_input", "describe_image"]

#: image_transport names of the accepted input messages
IMAGE_TRANSPORTS = ("raw", "compressed")
IMAGE_TRANSPORT_PARAM = ParamSpec(
    "image_transport", "raw",
    "Input image transport (image_transport names): 'raw' subscribes to sensor_msgs/Image on "
    "image_raw, 'compressed' to sensor_msgs/CompressedImage (JPEG or PNG) on "
    "image_raw/compressed (the remapped image topic + '/compressed').",
    read_only=True, choices=IMAGE_TRANSPORTS)


def _load_bridge():
    if os.environ.get("FER_ROS_NO_CV_BRIDGE", "").strip() not in ("", "0"):
        return None
    try:
        from cv_bridge import CvBridge  # type: ignore[import-not-found]

        return CvBridge()
    except Exception:  # noqa: BLE001 - missing or broken cv_bridge: use image_encoding
        return None


_BRIDGE = _load_bridge()


def using_cv_bridge() -> bool:
    return _BRIDGE is not None


def copy_header(header: Header) -> Header:
    """A new Header with the same stamp and frame_id (messages must not share one)."""
    out = Header()
    out.stamp.sec = header.stamp.sec
    out.stamp.nanosec = header.stamp.nanosec
    out.frame_id = header.frame_id
    return out


def _check_geometry(msg: Image) -> None:
    """The checks cv_bridge does not always make; image_encoding makes its own."""
    if msg.height == 0 or msg.width == 0:
        raise ImageEncodingError(f"empty image: zero size ({msg.width}x{msg.height})")
    if msg.step * msg.height != len(msg.data):
        raise ImageEncodingError(
            f"data size mismatch: step {msg.step} x height {msg.height} = "
            f"{msg.step * msg.height} bytes expected, message has {len(msg.data)}")


def image_msg_to_bgr(msg: Image, max_pixels: int = 0) -> np.ndarray:
    """Decode a sensor_msgs/Image to a (H, W, 3) uint8 BGR array, with cv_bridge when it is
    available and :func:`~fer_ros.image_encoding.message_fields_to_bgr` otherwise.

    Raises ImageEncodingError (ValueError) for any malformed or unsupported image, and for
    one over ``max_pixels`` (0 = no budget), checked on width x height before any copy.
    """
    if _BRIDGE is None:
        return message_fields_to_bgr(msg, max_pixels)
    too_big = oversized_image(msg.width, msg.height, max_pixels)
    if too_big:
        raise ImageEncodingError(too_big)
    _check_geometry(msg)
    try:
        out = _BRIDGE.imgmsg_to_cv2(msg, desired_encoding="bgr8")
    except Exception as exc:  # CvBridgeError and friends
        raise ImageEncodingError(f"cannot convert '{msg.encoding}' image: {exc}") from exc
    return np.ascontiguousarray(out)


def bgr_to_image_msg(bgr: np.ndarray, header: Header | None = None,
                     encoding: str = "bgr8") -> Image:
    """Encode a (H, W, 3) uint8 BGR array as a sensor_msgs/Image (header copied)."""
    msg = Image()
    if header is not None:
        msg.header = copy_header(header)
    fields = bgr_to_image_fields(bgr, encoding=encoding)
    msg.encoding = fields["encoding"]
    msg.height = int(fields["height"])
    msg.width = int(fields["width"])
    msg.step = int(fields["step"])
    msg.is_bigendian = 0
    data = fields["data"]
    msg.data = data if isinstance(data, (bytes, bytearray)) else bytes(data)
    return msg


def bgr_to_compressed_msg(bgr: np.ndarray, header: Header | None = None,
                          quality: int = 80) -> CompressedImage:
    """JPEG-encode a BGR array as a sensor_msgs/CompressedImage.

    ``format`` follows image_transport's compressed plugin ("bgr8; jpeg compressed bgr8"), so
    rqt_image_view and ``image_transport republish`` understand it.
    """
    msg = CompressedImage()
    if header is not None:
        msg.header = copy_header(header)
    msg.format = "bgr8; jpeg compressed bgr8"
    msg.data = encode_jpeg(bgr, quality=int(quality))
    return msg


class ImageInput(NamedTuple):
    """What an image subscription of one transport needs."""

    msg_type: type
    suffix: str                                  # appended to the resolved image topic
    to_bgr: Callable[[Any], np.ndarray]          # message -> BGR, raises ImageEncodingError


def image_input(transport: str, max_pixels: int = 0) -> ImageInput:
    """The subscription of an ``image_transport`` value ('raw' or 'compressed'); its
    decoder refuses images over ``max_pixels`` (0 = no budget) before decoding them.

    Like image_transport, the suffix goes after the *resolved* (namespaced, remapped) image
    topic, so remapping ``image_raw`` also moves ``image_raw/compressed``.
    """
    if transport == "compressed":
        return ImageInput(CompressedImage, "/compressed",
                          lambda msg: compressed_to_bgr(msg.format, msg.data, max_pixels))
    if transport == "raw":
        return ImageInput(Image, "", lambda msg: image_msg_to_bgr(msg, max_pixels))
    raise ValueError(f"unknown image transport {transport!r}; one of "
                     f"{', '.join(IMAGE_TRANSPORTS)}")


def describe_image(msg: Any) -> str:
    """Short description of an image message for log lines (rejected input)."""
    if isinstance(msg, CompressedImage):
        return f"compressed image '{msg.format}' ({len(msg.data)} bytes)"
    return f"image {msg.width}x{msg.height} '{msg.encoding}'"
