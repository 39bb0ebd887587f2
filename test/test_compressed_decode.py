"""image_encoding.compressed_to_bgr: sensor_msgs/CompressedImage payloads (JPEG, PNG) ->
BGR, and every kind of bad payload rejected with ImageEncodingError.  ROS-free."""

from __future__ import annotations

import array

import cv2
import numpy as np
import pytest

from fer_ros.image_encoding import ImageEncodingError, compressed_to_bgr, encode_jpeg


def frame(h=48, w=64):
    rng = np.random.default_rng(3)
    img = cv2.resize(rng.integers(0, 255, (6, 8, 3), np.uint8), (w, h))
    return np.ascontiguousarray(img)


def png(img):
    return cv2.imencode(".png", img)[1].tobytes()


@pytest.mark.parametrize("fmt", ["bgr8; jpeg compressed bgr8", "rgb8; jpeg compressed bgr8",
                                 "jpeg", ""])
def test_jpeg_decodes_close_to_the_original(fmt):
    img = frame()
    out = compressed_to_bgr(fmt, encode_jpeg(img, quality=95))
    assert out.shape == img.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - img).mean() < 4


@pytest.mark.parametrize("fmt", ["bgr8; png compressed bgr8", "png", ""])
def test_png_decodes_exactly(fmt):
    img = frame()
    np.testing.assert_array_equal(compressed_to_bgr(fmt, png(img)), img)


def test_grey_png_becomes_three_channels():
    grey = frame()[:, :, 0].copy()
    out = compressed_to_bgr("mono8; png compressed mono8", png(grey))
    assert out.shape == grey.shape + (3,)
    np.testing.assert_array_equal(out[:, :, 1], grey)


def test_accepts_the_buffers_rclpy_gives():
    data = png(frame())
    for buf in (data, bytearray(data), array.array("B", data), np.frombuffer(data, np.uint8)):
        assert compressed_to_bgr("png", buf).shape == (48, 64, 3)


def corrupt_cases():
    jpeg, pngb = encode_jpeg(frame()), png(frame())
    return {
        "empty": ("jpeg", b"", "empty"),
        "not an image": ("jpeg", b"hello world, this is text", "neither JPEG nor PNG"),
        "truncated jpeg": ("jpeg", jpeg[: len(jpeg) // 2], "truncated JPEG"),
        "truncated png": ("png", pngb[: len(pngb) // 2], "truncated PNG"),
        "jpeg header only": ("jpeg", jpeg[:2] + b"\xff\xd9", "no frame header"),
        "png without IHDR": ("png", pngb[:8] + b"\x00" * 16 + pngb[-12:], "IHDR"),
        "format says png": ("bgr8; png compressed bgr8", jpeg, "does not match"),
        "compressedDepth": ("16UC1; compressedDepth png", pngb, "compressedDepth"),
        "huge png header": ("png", pngb[:16] + (10**6).to_bytes(4, "big") * 2 + pngb[24:],
                            "beyond the limits"),
    }


@pytest.mark.parametrize("name", list(corrupt_cases()))
def test_bad_payloads_are_rejected_with_a_reason(name):
    fmt, data, word = corrupt_cases()[name]
    with pytest.raises(ImageEncodingError, match=word):
        compressed_to_bgr(fmt, data)


def test_a_garbled_png_body_is_rejected():
    data = bytearray(png(frame()))
    data[40:-20] = bytes(len(data) - 60)       # IDAT zeroed: zlib/CRC failure
    with pytest.raises(ImageEncodingError, match="corrupt png"):
        compressed_to_bgr("png", bytes(data))
