"""fer_ros.image_encoding: sensor_msgs/Image fields <-> bgr8, JPEG."""

import array
import types

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fer_ros.image_encoding import (
    SUPPORTED_ENCODINGS,
    ImageEncodingError,
    bgr_to_image_fields,
    encode_jpeg,
    image_to_bgr,
    message_fields_to_bgr,
)

RNG = np.random.default_rng(1234)


def rand_bgr(h=6, w=8):
    return RNG.integers(0, 256, (h, w, 3), dtype=np.uint8)


def pack(rows: np.ndarray, pad: int = 0, fill: int = 0xAB) -> tuple:
    """(H, W*bpp) or (H, W, C) bytes -> (step, bytes) with ``pad`` garbage bytes per row."""
    h = rows.shape[0]
    flat = rows.reshape(h, -1)
    out = np.full((h, flat.shape[1] + pad), fill, np.uint8)
    out[:, :flat.shape[1]] = flat
    return out.shape[1], out.tobytes()


def gray_of(bgr):
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)


def make_packed_yuv(y: np.ndarray, u: np.ndarray, v: np.ndarray, order: str) -> np.ndarray:
    """Pack Y (H, W), U/V (H, W/2) into (H, W*2) bytes: order "uyvy" or "yuyv"."""
    h, w = y.shape
    out = np.empty((h, w // 2, 4), np.uint8)
    if order == "uyvy":
        out[..., 0], out[..., 1], out[..., 2], out[..., 3] = u, y[:, 0::2], v, y[:, 1::2]
    else:
        out[..., 0], out[..., 1], out[..., 2], out[..., 3] = y[:, 0::2], u, y[:, 1::2], v
    return out.reshape(h, w * 2)


# ------------------------------------------------------------------------------ decoding
def expected_and_fields(enc, bgr, pad=0, bigendian=0):
    """Independent construction of the raw bytes of ``bgr`` in ``enc`` + the expected result."""
    h, w = bgr.shape[:2]
    if enc == "bgr8":
        raw, exp = bgr, bgr
    elif enc == "rgb8":
        raw, exp = bgr[:, :, ::-1], bgr
    elif enc == "bgra8":
        raw = np.dstack([bgr, RNG.integers(0, 256, (h, w), dtype=np.uint8)])
        exp = bgr
    elif enc == "rgba8":
        raw = np.dstack([bgr[:, :, ::-1], RNG.integers(0, 256, (h, w), dtype=np.uint8)])
        exp = bgr
    elif enc == "mono8":
        g = gray_of(bgr)
        raw, exp = g, np.dstack([g, g, g])
    elif enc == "mono16":
        g = gray_of(bgr)
        g16 = (g.astype(np.uint16) << 8) | 0x7F  # full 16-bit range: >> 8 gives g back
        g16[0, 0] = 0xFFFF
        g = (g16 >> 8).astype(np.uint8)
        raw = g16.astype(">u2" if bigendian else "<u2").view(np.uint8).reshape(h, w * 2)
        exp = np.dstack([g, g, g])
    else:
        raise AssertionError(enc)
    step, data = pack(np.ascontiguousarray(raw), pad)
    return exp, step, data


@pytest.mark.parametrize("enc", ["bgr8", "rgb8", "bgra8", "rgba8", "mono8", "mono16"])
@pytest.mark.parametrize("pad", [0, 1, 7, 64])
def test_decode_every_encoding_with_and_without_padding(enc, pad):
    bgr = rand_bgr(5, 9)
    exp, step, data = expected_and_fields(enc, bgr, pad)
    out = image_to_bgr(enc, 5, 9, step, data)
    assert out.shape == (5, 9, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, exp)


@pytest.mark.parametrize("pad", [0, 3])
def test_mono16_big_endian(pad):
    bgr = rand_bgr(4, 6)
    exp, step, data = expected_and_fields("mono16", bgr, pad, bigendian=1)
    np.testing.assert_array_equal(image_to_bgr("mono16", 4, 6, step, data, is_bigendian=1), exp)
    # read with the wrong endianness it is a different image
    assert not np.array_equal(image_to_bgr("mono16", 4, 6, step, data, is_bigendian=0), exp)


def test_mono16_12bit_data_keeps_contrast_and_fixed_shift():
    g12 = np.array([[0, 1024, 2048, 4095]], np.uint16)  # 12-bit camera data in mono16
    data = g12.astype("<u2").tobytes()
    auto = image_to_bgr("mono16", 1, 4, 8, data)[:, :, 0]
    np.testing.assert_array_equal(auto, [[0, 64, 128, 255]])  # >> 4
    fixed = image_to_bgr("mono16", 1, 4, 8, data, mono16_shift=8)[:, :, 0]
    np.testing.assert_array_equal(fixed, [[0, 4, 8, 15]])  # cv_bridge-like / 256
    dark = image_to_bgr("mono16", 1, 4, 8, np.zeros(4, "<u2").tobytes())
    assert dark.max() == 0


def test_bgr8_is_a_zero_copy_view_even_with_padding():
    bgr = rand_bgr(6, 8)
    step, data = pack(bgr, pad=5)
    buf = bytearray(data)
    out = image_to_bgr("bgr8", 6, 8, step, buf)
    np.testing.assert_array_equal(out, bgr)
    assert np.shares_memory(out, np.frombuffer(buf, np.uint8))
    # bytes are immutable -> read-only view; copy=True gives an owned contiguous array
    ro = image_to_bgr("bgr8", 6, 8, step, data)
    assert not ro.flags.writeable
    cp = image_to_bgr("bgr8", 6, 8, step, data, copy=True)
    assert cp.flags.writeable and cp.flags.c_contiguous
    assert not np.shares_memory(cp, np.frombuffer(buf, np.uint8))
    np.testing.assert_array_equal(cp, bgr)


def test_accepts_array_array_numpy_memoryview_and_list():
    bgr = rand_bgr(3, 4)
    step, data = pack(bgr)
    for d in (array.array("B", data), np.frombuffer(data, np.uint8), memoryview(data),
              list(data)):
        np.testing.assert_array_equal(image_to_bgr("bgr8", 3, 4, step, d), bgr)


def test_longer_data_is_accepted():
    bgr = rand_bgr(3, 4)
    step, data = pack(bgr)
    np.testing.assert_array_equal(image_to_bgr("bgr8", 3, 4, step, data + b"\0" * 10), bgr)


def test_encoding_name_is_case_insensitive():
    bgr = rand_bgr(2, 2)
    step, data = pack(bgr[:, :, ::-1])
    np.testing.assert_array_equal(image_to_bgr("RGB8", 2, 2, step, data), bgr)


# ------------------------------------------------------------------------------ YUV 4:2:2
def _yuv_planes(h=4, w=8):
    y = RNG.integers(16, 236, (h, w), dtype=np.uint8)
    u = RNG.integers(16, 241, (h, w // 2), dtype=np.uint8)
    v = RNG.integers(16, 241, (h, w // 2), dtype=np.uint8)
    return y, u, v


def test_yuv422_is_uyvy_and_yuv422_yuy2_is_yuyv():
    y, u, v = _yuv_planes()
    uyvy = make_packed_yuv(y, u, v, "uyvy")
    yuyv = make_packed_yuv(y, u, v, "yuyv")
    a = image_to_bgr("yuv422", 4, 8, 16, uyvy.tobytes())
    b = image_to_bgr("uyvy", 4, 8, 16, uyvy.tobytes())
    c = image_to_bgr("yuv422_yuy2", 4, 8, 16, yuyv.tobytes())
    d = image_to_bgr("yuyv", 4, 8, 16, yuyv.tobytes())
    # the same picture through either byte order
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    np.testing.assert_array_equal(c, d)
    # and reading UYVY bytes as YUYV is wrong
    assert not np.array_equal(image_to_bgr("yuv422_yuy2", 4, 8, 16, uyvy.tobytes()), a)


def test_yuv_against_bt601_formula():
    y, u, v = _yuv_planes(2, 8)
    out = image_to_bgr("yuv422", 2, 8, 16, make_packed_yuv(y, u, v, "uyvy").tobytes())
    uu = np.repeat(u, 2, axis=1).astype(float) - 128
    vv = np.repeat(v, 2, axis=1).astype(float) - 128
    yy = y.astype(float)
    # BT.601 (OpenCV's packed-422 coefficients are within a few levels of these)
    r = yy + 1.402 * vv
    g = yy - 0.344 * uu - 0.714 * vv
    b = yy + 1.772 * uu
    exp = np.clip(np.dstack([b, g, r]), 0, 255)
    assert np.abs(out.astype(float) - exp).max() <= 40  # limited vs full range scaling
    # grey pixels (U = V = 128) keep the order of their brightness, neutral colour
    gy = np.array([[40, 200, 120, 120]], np.uint8)
    grey = image_to_bgr("yuyv", 1, 4, 8, make_packed_yuv(gy, np.full((1, 2), 128, np.uint8),
                                                         np.full((1, 2), 128, np.uint8),
                                                         "yuyv").tobytes())
    assert grey[0, 0, 0] < grey[0, 1, 0]
    assert np.abs(grey.astype(int) - grey[:, :, :1].astype(int)).max() <= 1
    # V high = red, U high = blue
    red = image_to_bgr("uyvy", 1, 2, 4, bytes([128, 100, 240, 100]))[0, 0]
    blue = image_to_bgr("uyvy", 1, 2, 4, bytes([240, 100, 128, 100]))[0, 0]
    assert red[2] > red[0] + 100 and blue[0] > blue[2] + 100


@pytest.mark.parametrize("enc", ["yuv422", "yuv422_yuy2"])
def test_yuv_padding(enc):
    y, u, v = _yuv_planes(3, 6)
    packed = make_packed_yuv(y, u, v, "uyvy" if enc == "yuv422" else "yuyv")
    step0, d0 = pack(packed)
    step1, d1 = pack(packed, pad=9)
    np.testing.assert_array_equal(image_to_bgr(enc, 3, 6, step0, d0),
                                  image_to_bgr(enc, 3, 6, step1, d1))


# ------------------------------------------------------------------------------ errors
@pytest.mark.parametrize("enc", ["bayer_rggb8", "16UC1", "jpeg", "", "bgr16", "nv12"])
def test_unknown_encodings_are_rejected(enc):
    with pytest.raises(ImageEncodingError, match="unsupported image encoding"):
        image_to_bgr(enc, 2, 2, 6, bytes(12))


def test_error_is_a_value_error_listing_supported():
    with pytest.raises(ValueError) as ei:
        image_to_bgr("32FC1", 2, 2, 8, bytes(16))
    assert "bgr8" in str(ei.value) and "yuv422" in str(ei.value)


def test_non_string_encoding():
    with pytest.raises(ImageEncodingError, match="string"):
        image_to_bgr(None, 2, 2, 6, bytes(12))


def test_step_smaller_than_row():
    with pytest.raises(ImageEncodingError, match="step 5 is smaller"):
        image_to_bgr("bgr8", 2, 2, 5, bytes(12))
    with pytest.raises(ImageEncodingError, match="step"):
        image_to_bgr("mono16", 2, 3, 5, bytes(12))


def test_data_shorter_than_step_times_height():
    with pytest.raises(ImageEncodingError, match="11 bytes, expected"):
        image_to_bgr("bgr8", 2, 2, 6, bytes(11))
    # padded rows: the padding of the last row is required too
    with pytest.raises(ImageEncodingError, match="expected"):
        image_to_bgr("mono8", 3, 4, 8, bytes(8 * 2 + 4))


@pytest.mark.parametrize("h,w", [(0, 4), (4, 0), (0, 0), (-1, 4), (4, -2)])
def test_zero_or_negative_size(h, w):
    with pytest.raises(ImageEncodingError, match="empty image"):
        image_to_bgr("bgr8", h, w, max(w, 0) * 3, bytes(64))


@pytest.mark.parametrize("h,w", [(100000, 10), (10, 70000), (16000, 16000)])
def test_absurd_size(h, w):
    with pytest.raises(ImageEncodingError, match="beyond the limits"):
        image_to_bgr("bgr8", h, w, w * 3, bytes(16))


def test_absurd_step():
    with pytest.raises(ImageEncodingError, match="implausibly large"):
        image_to_bgr("bgr8", 2, 2, 10 ** 6, bytes(2 * 10 ** 6))


def test_odd_width_yuv():
    with pytest.raises(ImageEncodingError, match="even width"):
        image_to_bgr("yuv422", 2, 3, 6, bytes(12))


def test_non_integer_sizes_and_bad_data():
    with pytest.raises(ImageEncodingError, match="height"):
        image_to_bgr("bgr8", 2.5, 2, 6, bytes(12))
    with pytest.raises(ImageEncodingError, match="width"):
        image_to_bgr("bgr8", 2, "x", 6, bytes(12))
    with pytest.raises(ImageEncodingError, match="byte buffer"):
        image_to_bgr("bgr8", 2, 2, 6, object())
    with pytest.raises(ImageEncodingError):
        image_to_bgr("bgr8", 2, 2, 6, [300] * 12)


# ------------------------------------------------------------------------------ encoding
@pytest.mark.parametrize("enc", ["bgr8", "rgb8", "mono8"])
def test_fields_round_trip(enc):
    bgr = rand_bgr(7, 5)
    f = bgr_to_image_fields(bgr, enc)
    assert f["encoding"] == enc and (f["height"], f["width"]) == (7, 5)
    ch = 1 if enc == "mono8" else 3
    assert f["step"] == 5 * ch and len(f["data"]) == f["step"] * 7
    assert isinstance(f["data"], array.array) and f["data"].typecode == "B"
    assert f["is_bigendian"] == 0
    back = image_to_bgr(f["encoding"], f["height"], f["width"], f["step"], f["data"])
    if enc == "mono8":
        g = gray_of(bgr)
        np.testing.assert_array_equal(back, np.dstack([g, g, g]))
    else:
        np.testing.assert_array_equal(back, bgr)
    if enc == "rgb8":  # really RGB order in the bytes
        assert bytes(f["data"][:3]) == bytes(bgr[0, 0, ::-1])


def test_fields_from_a_non_contiguous_crop_and_grey():
    big = rand_bgr(20, 30)
    crop = big[3:11, 5:17]
    f = bgr_to_image_fields(crop)
    np.testing.assert_array_equal(
        image_to_bgr(f["encoding"], f["height"], f["width"], f["step"], f["data"]), crop)
    g = gray_of(big)
    f = bgr_to_image_fields(g, "mono8")
    assert f["step"] == 30
    f = bgr_to_image_fields(g, "bgr8")
    out = image_to_bgr("bgr8", f["height"], f["width"], f["step"], f["data"])
    np.testing.assert_array_equal(out[:, :, 1], g)


def test_fields_errors():
    with pytest.raises(ImageEncodingError, match="cannot encode"):
        bgr_to_image_fields(rand_bgr(), "yuv422")
    with pytest.raises(ImageEncodingError):
        bgr_to_image_fields(rand_bgr().astype(np.float32))
    with pytest.raises(ImageEncodingError):
        bgr_to_image_fields(np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(ImageEncodingError, match="empty"):
        bgr_to_image_fields(np.zeros((0, 4, 3), np.uint8))


def test_message_fields_to_bgr_with_a_message_like_object():
    bgr = rand_bgr(3, 4)
    f = bgr_to_image_fields(bgr, "rgb8")
    msg = types.SimpleNamespace(**f)
    np.testing.assert_array_equal(message_fields_to_bgr(msg), bgr)


def test_with_a_real_sensor_msgs_image():
    Image = pytest.importorskip("sensor_msgs.msg").Image
    bgr = rand_bgr(4, 6)
    f = bgr_to_image_fields(bgr)
    msg = Image(encoding=f["encoding"], height=f["height"], width=f["width"], step=f["step"])
    msg.data = f["data"]
    np.testing.assert_array_equal(message_fields_to_bgr(msg), bgr)


# ------------------------------------------------------------------------------ JPEG
def test_jpeg():
    yy, xx = np.mgrid[0:60, 0:80]
    smooth = np.dstack([xx * 3, yy * 4, (xx + yy) * 2]).astype(np.uint8)
    jpg = encode_jpeg(smooth, quality=90)
    assert isinstance(jpg, bytes) and jpg[:2] == b"\xff\xd8" and jpg[-2:] == b"\xff\xd9"
    dec = cv2.imdecode(np.frombuffer(jpg, np.uint8), cv2.IMREAD_COLOR)
    assert dec.shape == smooth.shape
    assert np.abs(dec.astype(int) - smooth).mean() < 3
    noisy = rand_bgr(60, 80)
    assert len(encode_jpeg(noisy, 20)) < len(encode_jpeg(noisy, 95))
    assert encode_jpeg(gray_of(noisy))[:2] == b"\xff\xd8"


@pytest.mark.parametrize("q", [0, 101, -5])
def test_jpeg_bad_quality(q):
    with pytest.raises(ImageEncodingError, match="quality"):
        encode_jpeg(rand_bgr(), q)


def test_jpeg_bad_image():
    with pytest.raises(ImageEncodingError):
        encode_jpeg(np.zeros((0, 5, 3), np.uint8))
    with pytest.raises(ImageEncodingError):
        encode_jpeg(np.zeros((4, 5, 3), np.float32))


# ------------------------------------------------------------------------------ property
@settings(max_examples=60, deadline=None)
@given(enc=st.sampled_from(["bgr8", "rgb8", "bgra8", "rgba8", "mono8", "mono16"]),
       h=st.integers(1, 12), w=st.integers(1, 12), pad=st.integers(0, 9),
       bigendian=st.integers(0, 1), seed=st.integers(0, 2 ** 31 - 1))
def test_property_round_trip(enc, h, w, pad, bigendian, seed):
    global RNG
    RNG = np.random.default_rng(seed)
    bgr = rand_bgr(h, w)
    exp, step, data = expected_and_fields(enc, bgr, pad, bigendian)
    out = image_to_bgr(enc, h, w, step, data, is_bigendian=bigendian)
    np.testing.assert_array_equal(out, exp)
    # one byte short of step * height is always an error
    with pytest.raises(ImageEncodingError):
        image_to_bgr(enc, h, w, step, data[:step * h - 1])


def test_supported_encodings_constant():
    assert {"bgr8", "rgb8", "mono8", "bgra8", "rgba8", "mono16", "yuv422",
            "yuv422_yuy2"} <= set(SUPPORTED_ENCODINGS)
