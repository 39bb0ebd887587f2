"""fer_ros.ros_image: sensor_msgs Image/CompressedImage <-> BGR arrays."""

import cv2
import numpy as np
import pytest
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from fer_ros import ros_image
from fer_ros.ros_image import (
    ImageEncodingError,
    bgr_to_compressed_msg,
    bgr_to_image_msg,
    copy_header,
    image_msg_to_bgr,
)


def header(sec=12, nanosec=345, frame_id="cam"):
    h = Header()
    h.stamp.sec, h.stamp.nanosec, h.frame_id = sec, nanosec, frame_id
    return h


def test_round_trip_bgr8_keeps_pixels_and_header():
    rng = np.random.default_rng(0)
    bgr = rng.integers(0, 256, (7, 11, 3), dtype=np.uint8)
    msg = bgr_to_image_msg(bgr, header())
    assert (msg.encoding, msg.height, msg.width, msg.step) == ("bgr8", 7, 11, 33)
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec, msg.header.frame_id) == \
        (12, 345, "cam")
    np.testing.assert_array_equal(image_msg_to_bgr(msg), bgr)


def test_header_is_copied_not_shared():
    h = header()
    msg = bgr_to_image_msg(np.zeros((2, 2, 3), np.uint8), h)
    h.stamp.sec = 99
    assert msg.header.stamp.sec == 12
    c = copy_header(msg.header)
    assert c is not msg.header and c.frame_id == "cam"


def test_non_contiguous_crop_encodes():
    bgr = np.arange(10 * 10 * 3, dtype=np.uint8).reshape(10, 10, 3)
    view = bgr[2:6, 3:8]
    msg = bgr_to_image_msg(view)
    np.testing.assert_array_equal(image_msg_to_bgr(msg), view)


def test_rgb8_and_mono8_are_converted():
    rgb = np.zeros((2, 3, 3), np.uint8)
    rgb[..., 0] = 200    # red
    msg = Image(height=2, width=3, encoding="rgb8", step=9, data=rgb.tobytes())
    assert image_msg_to_bgr(msg)[0, 0].tolist() == [0, 0, 200]
    mono = Image(height=2, width=3, encoding="mono8", step=3, data=bytes(range(6)))
    assert image_msg_to_bgr(mono).shape == (2, 3, 3)


@pytest.mark.parametrize("msg, words", [
    (Image(height=2, width=2, encoding="weird16", step=4, data=bytes(8)), "weird16"),
    (Image(height=2, width=2, encoding="bgr8", step=6, data=bytes(5)), "bytes"),
    (Image(height=0, width=0, encoding="bgr8", step=0, data=b""), "empty"),
    (Image(height=2, width=2, encoding="bgr8", step=2, data=bytes(4)), "step"),
])
def test_malformed_images_raise_clear_errors(msg, words):
    with pytest.raises(ImageEncodingError) as info:
        image_msg_to_bgr(msg)
    assert isinstance(info.value, ValueError)
    assert words.lower() in str(info.value).lower()


def test_compressed_is_a_decodable_jpeg():
    bgr = np.zeros((40, 60, 3), np.uint8)
    bgr[:, :30] = (255, 0, 0)
    msg = bgr_to_compressed_msg(bgr, header(), quality=90)
    assert msg.format == "bgr8; jpeg compressed bgr8"
    assert msg.header.frame_id == "cam"
    dec = cv2.imdecode(np.frombuffer(bytes(msg.data), np.uint8), cv2.IMREAD_COLOR)
    assert dec.shape == (40, 60, 3)
    assert dec[20, 10, 0] > 200 and dec[20, 50, 0] < 50


def test_backend_report():
    assert ros_image.using_cv_bridge() in (True, False)
