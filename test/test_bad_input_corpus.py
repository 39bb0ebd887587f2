"""Bad-input corpus: malformed sensor_msgs/Image data never kills a node.

Two layers, both driven by the same hypothesis strategies (derandomized, so CI sees the same
examples every run):

1. Pure: ``fer_ros.image_encoding.image_to_bgr`` and ``fer_ros.ros_image.image_msg_to_bgr``
   over generated fields (every sensor_msgs/image_encodings string, case/space variants and
   random text; zero, odd, huge and beyond-the-limit sizes; step and data-length mismatches;
   any ``is_bigendian``; several byte containers).  Property: the result is an (H, W, 3)
   uint8 array of the declared size with the right pixels, or ``ImageEncodingError`` - never
   any other exception.  An independent oracle (the documented contract) says which one.
   Float images (32FC*/64FC*, with NaN and inf) are rejected with a clear message.
2. Graph: a real rclpy graph (face_detector + annotator, both on image_raw) fed a fixed
   corpus of ~115 messages (~85 malformed, the rest odd-but-valid and real face frames), one
   message at a time so no frame is dropped as stale.  Afterwards: ``rejected`` equals the
   number of malformed frames exactly, nothing ``failed``, only the valid frames produced
   output (faces found after all the bad input), and the error log is throttled by
   ``log_throttle_s`` (checked on /rosout: 3600 s -> one line for all rejections, 0 s ->
   one line each).  Then the corpus again as a burst: frames overwritten in the detector's
   input history are dropped, and every published message is counted exactly once as
   dropped, rejected or processed.  Both nodes are still alive and process the next valid
   frame.
"""

from __future__ import annotations

import array
import random
import time
from dataclasses import dataclass

import numpy as np
import pytest
from conftest import Collector, composite_frame, spin_until, wait_connected
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.serialization import deserialize_message, serialize_message
from sensor_msgs.msg import Image

from fer_ros import ros_image
from fer_ros.image_encoding import (
    BYTES_PER_PIXEL,
    MAX_DIMENSION,
    MAX_PIXELS,
    SUPPORTED_ENCODINGS,
    ImageEncodingError,
    image_to_bgr,
)

# ---------------------------------------------------------------------------- encodings
# Every string of sensor_msgs/image_encodings.hpp (ROS 2 rolling), plus the ROS 2 aliases
# uyvy / yuyv and nv12 (GStreamer-style 4:2:0 that some drivers send).
_STD = {"rgb8": 3, "rgba8": 4, "rgb16": 6, "rgba16": 8, "bgr8": 3, "bgra8": 4, "bgr16": 6,
        "bgra16": 8, "mono8": 1, "mono16": 2}
_CV = {f"{bits}{kind}C{n}": bits // 8 * n
       for bits, kind in ((8, "U"), (8, "S"), (16, "U"), (16, "S"), (32, "S"), (32, "F"),
                          (64, "F"))
       for n in range(1, 5)}
_BAYER = {f"bayer_{p}{bits}": bits // 8 for bits in (8, 16)
          for p in ("rggb", "bggr", "gbrg", "grbg")}
_YUV = {"yuv422": 2, "yuv422_yuy2": 2, "uyvy": 2, "yuyv": 2, "nv21": 1, "nv24": 1, "nv12": 1}
#: encoding -> bytes per pixel it declares (the geometry a sender would use)
NOMINAL_BPP = {**_STD, **_CV, **_BAYER, **_YUV}
ROS_IMAGE_ENCODINGS = tuple(NOMINAL_BPP)
FLOAT_ENCODINGS = tuple(e for e in _CV if "F" in e)
FLOAT_DTYPE = {"32": np.float32, "64": np.float64}

UINT32_MAX = 2**32 - 1
YUV422 = {"yuv422", "uyvy", "yuv422_yuy2", "yuyv"}

#: settings shared by the property tests: reproducible, no database, no time limit per example
PROPERTY = dict(derandomize=True, database=None, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# ---------------------------------------------------------------------------- the oracle
def expected_outcome(encoding, height, width, step, data_len) -> str | None:
    """What the documented contract of ``image_to_bgr`` says: None = must decode, else the
    reason it must be rejected.  ``"either"`` marks the one band the contract leaves open
    (a step far beyond a padded row: implausible, the module may refuse it).

    Written from the docstring (not the code): unsupported encoding, zero or absurd size
    (limits MAX_DIMENSION / MAX_PIXELS), step < width * bytes per pixel, data shorter than
    step * height, odd width for YUV 4:2:2 -> rejected; longer data is fine.
    """
    if not isinstance(encoding, str):
        return "encoding type"
    enc = encoding.strip().lower()
    if enc not in BYTES_PER_PIXEL:
        return "unsupported"
    if height <= 0 or width <= 0:
        return "empty"
    if height > MAX_DIMENSION or width > MAX_DIMENSION or height * width > MAX_PIXELS:
        return "too large"
    row = width * BYTES_PER_PIXEL[enc]
    if step < row:
        return "step too small"
    if enc in YUV422 and width % 2:
        return "odd width"
    if data_len < step * height:
        return "data too short"
    if step > row + 4096:   # more padding than any allocator adds: the module may refuse
        return "either"
    return None


def reference_bgr(encoding, height, width, step, raw: bytes, is_bigendian) -> np.ndarray | None:
    """The expected pixels, computed the slow obvious way (None: only the shape is checked)."""
    enc = encoding.strip().lower()
    bpp = BYTES_PER_PIXEL[enc]
    rows = np.frombuffer(raw, np.uint8)[:step * height].reshape(height, step)
    px = rows[:, :width * bpp].reshape(height, width, bpp).astype(np.int64)
    if enc == "bgr8":
        return px
    if enc == "rgb8":
        return px[:, :, ::-1]
    if enc == "bgra8":
        return px[:, :, :3]
    if enc == "rgba8":
        return px[:, :, 2::-1]
    if enc == "mono8":
        return np.repeat(px, 3, axis=2)
    if enc == "mono16":
        hi, lo = (px[:, :, 0], px[:, :, 1]) if is_bigendian else (px[:, :, 1], px[:, :, 0])
        value = hi * 256 + lo
        shift = max(0, int(value.max()).bit_length() - 8)   # documented default scaling
        grey = np.minimum(value >> shift, 255)
        return np.repeat(grey[:, :, None], 3, axis=2)
    return None   # YUV 4:2:2: colour maths is OpenCV's; shape and dtype are checked


# ---------------------------------------------------------------------------- strategies
@dataclass
class Fields:
    encoding: object
    height: int
    width: int
    step: int
    raw: bytes          # the bytes (``data`` wraps them in some container)
    data: object        # what is passed as ``data``
    is_bigendian: int
    label: str = "drawn"

    @property
    def representable(self) -> bool:
        """Can this travel in a sensor_msgs/Image (uint32 sizes, uint8 flag, UTF-8 text)?"""
        if not isinstance(self.encoding, str) or "\x00" in self.encoding:
            return False
        try:
            self.encoding.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return all(0 <= v <= UINT32_MAX for v in (self.height, self.width, self.step)) \
            and 0 <= self.is_bigendian <= 255

    def msg(self, sec: int = 0, frame_id: str = "corpus") -> Image:
        m = Image()
        m.header.stamp.sec = sec
        m.header.frame_id = frame_id
        m.encoding = self.encoding
        m.height, m.width, m.step = self.height, self.width, self.step
        m.is_bigendian = self.is_bigendian
        m.data = array.array("B", self.raw)
        return m


_CASE_VARIANTS = (str.upper, str.title, lambda s: f" {s}\n", lambda s: s + "x",
                  lambda s: s[:-1], lambda s: s.replace("8", "16"))


@st.composite
def encodings(draw, message_safe: bool) -> str:
    """Mostly decodable names (their code paths are the longest), then every ROS name,
    case / whitespace / typo variants of the supported ones, and arbitrary text."""
    kind = draw(st.sampled_from(["supported"] * 4 + ["ros", "variant", "text"]))
    if kind == "supported":
        return draw(st.sampled_from(SUPPORTED_ENCODINGS))
    if kind == "ros":
        return draw(st.sampled_from(ROS_IMAGE_ENCODINGS))
    if kind == "variant":
        return draw(st.sampled_from(_CASE_VARIANTS))(draw(st.sampled_from(SUPPORTED_ENCODINGS)))
    chars = st.characters(codec="utf-8", exclude_characters="\x00") if message_safe \
        else st.characters()
    return draw(st.text(chars, max_size=12))


def _dims(message_safe: bool) -> st.SearchStrategy:
    special = [0, 1, 2, 3, 640, 8000, MAX_DIMENSION, MAX_DIMENSION + 1, 2**31 - 1,
               UINT32_MAX]
    parts = [st.integers(1, 8), st.integers(1, 8), st.integers(9, 64), st.sampled_from(special)]
    if not message_safe:
        parts.append(st.integers(-3, -1))
    return st.one_of(*parts)


def _wrap(raw: bytes, container: str):
    if container == "bytes":
        return raw
    if container == "bytearray":
        return bytearray(raw)
    if container == "array":
        return array.array("B", raw)
    if container == "memoryview":
        return memoryview(raw)
    if container == "ndarray":
        return np.frombuffer(raw, np.uint8).copy()
    return list(raw)   # "list": plain ints (the slow path)


@st.composite
def image_fields(draw, message_safe: bool = False, max_data: int = 1 << 18) -> Fields:
    encoding = draw(encodings(message_safe))
    norm = encoding.strip().lower()
    bpp = BYTES_PER_PIXEL.get(norm) or NOMINAL_BPP.get(encoding) or draw(st.integers(1, 8))
    # half of the examples have a plausible geometry (small image, row or padded step, enough
    # data) so the decoding paths are exercised too; the rest is anything
    plausible = draw(st.booleans())
    if plausible:
        height, width = draw(st.integers(1, 24)), draw(st.integers(1, 24))
    else:
        height, width = draw(_dims(message_safe)), draw(_dims(message_safe))
    row = max(0, width) * bpp
    step_choices = [st.just(row), st.integers(row + 1, row + 64)]         # unpadded, padded
    if not plausible:
        step_choices += [
            st.integers(max(0, row - 8), max(0, row - 1)),                 # too small (or 0)
            st.sampled_from([2 * row + 4096, 2 * row + 4097, row + 4096, row + 4097]),
            st.integers(0, UINT32_MAX),                                    # anything
        ]
    step = draw(st.one_of(*step_choices))
    if not message_safe and not plausible and draw(st.integers(0, 3)) == 0:
        step = -step
    need = max(0, step) * max(0, height)
    if plausible:
        length = draw(st.one_of(st.just(need), st.integers(need + 1, need + 64)))
    elif need <= max_data:
        length = draw(st.one_of(st.just(need), st.just(max(0, need - 1)),
                                st.integers(need + 1, need + 64), st.just(0),
                                st.integers(0, min(need, 4096))))
    else:   # declared huge: the data is (much) shorter than it claims
        length = draw(st.one_of(st.just(0), st.integers(1, 4096),
                                st.integers(0, max_data)))
    fill = draw(st.sampled_from(["random", "zeros", "ff", "nan32"]))
    if fill == "random":
        raw = random.Random(draw(st.integers(0, 2**32 - 1))).randbytes(length)
    elif fill == "zeros":
        raw = bytes(length)
    elif fill == "ff":
        raw = b"\xff" * length
    else:   # the bytes of a float32 NaN image, whatever the encoding says
        raw = (np.full((length + 3) // 4, np.nan, np.float32).tobytes())[:length]
    big = draw(st.one_of(st.just(0), st.just(1), st.integers(0, 255)))
    container = "bytes" if message_safe else draw(st.sampled_from(
        ["bytes", "bytearray", "array", "memoryview", "ndarray"]
        + (["list"] if length <= 2048 else [])))
    return Fields(encoding, height, width, step, raw, _wrap(raw, container), big)


def decode(fields: Fields):
    """(array, None) or (None, error message); any other exception propagates."""
    try:
        return image_to_bgr(fields.encoding, fields.height, fields.width, fields.step,
                            fields.data, fields.is_bigendian), None
    except ImageEncodingError as exc:
        return None, str(exc)


def check_decoded(fields: Fields, out, error) -> None:
    """The corpus property, for one set of fields."""
    expected = expected_outcome(fields.encoding, fields.height, fields.width, fields.step,
                                len(fields.raw))
    if error is not None:
        assert expected is not None, f"valid image rejected: {error} ({fields})"
        assert error.strip() and "Traceback" not in error
        return
    assert expected in (None, "either"), f"malformed image accepted ({expected}): {fields}"
    assert isinstance(out, np.ndarray) and out.dtype == np.uint8
    assert out.shape == (fields.height, fields.width, 3), (out.shape, fields)
    ref = reference_bgr(fields.encoding, fields.height, fields.width, fields.step, fields.raw,
                        fields.is_bigendian)
    if ref is not None:
        np.testing.assert_array_equal(out, ref)


# ---------------------------------------------------------------------------- layer 1: pure
def test_every_ros_encoding_is_decoded_or_clearly_rejected():
    """Each image_encodings string, with the geometry it declares: the supported ones decode,
    every other one is refused with a message that names it and lists what is supported."""
    assert set(SUPPORTED_ENCODINGS) <= set(ROS_IMAGE_ENCODINGS)
    rng = random.Random(1)
    for enc in ROS_IMAGE_ENCODINGS:
        h, w = 4, 6
        step = w * NOMINAL_BPP[enc]
        raw = rng.randbytes(step * h)
        for data in (raw, array.array("B", raw)):
            fields = Fields(enc, h, w, step, raw, data, 0)
            out, error = decode(fields)
            check_decoded(fields, out, error)
            if enc in SUPPORTED_ENCODINGS:
                assert error is None and out.shape == (h, w, 3), (enc, error)
            else:
                assert out is None, enc
                assert repr(enc) in error and "unsupported" in error, error
                assert "bgr8" in error   # the message says what would work


@settings(max_examples=400, **PROPERTY)
@given(image_fields())
def test_image_to_bgr_decodes_or_raises_image_encoding_error(fields):
    out, error = decode(fields)
    check_decoded(fields, out, error)
    if fields.representable:
        # the node path (rclpy message -> ros_image): same property; without cv_bridge (the
        # PyPI wheels) it is image_encoding itself, so the very same answer
        msg = fields.msg()
        try:
            via_msg, msg_error = ros_image.image_msg_to_bgr(msg), None
        except ImageEncodingError as exc:
            via_msg, msg_error = None, str(exc)
        if via_msg is not None:
            assert via_msg.dtype == np.uint8 and via_msg.shape == (msg.height, msg.width, 3)
        if not ros_image.using_cv_bridge():
            assert (msg_error is None) == (error is None), (error, msg_error)
            if out is not None:
                np.testing.assert_array_equal(via_msg, out)


@st.composite
def float_images(draw):
    encoding = draw(st.sampled_from(FLOAT_ENCODINGS))
    channels = int(encoding[-1])
    dtype = FLOAT_DTYPE[encoding[:2]]
    h, w = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    values = draw(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32),
                           min_size=h * w * channels, max_size=h * w * channels))
    arr = np.array(values, dtype=dtype).reshape(h, w, channels)
    arr.flat[draw(st.integers(0, arr.size - 1))] = np.nan    # at least one NaN
    big = draw(st.sampled_from([0, 1]))
    if big:
        arr = arr.astype(arr.dtype.newbyteorder(">"))
    raw = arr.tobytes()
    return Fields(encoding, h, w, w * channels * arr.itemsize, raw,
                  draw(st.sampled_from([raw, array.array("B", raw), arr])), big)


@settings(max_examples=60, **PROPERTY)
@given(float_images())
def test_nan_float_images_are_rejected_with_a_clear_message(fields):
    """The module decodes no float encoding: a NaN-bearing 32FC*/64FC* image is refused (no
    garbage bgr8 out of NaNs), and the message names the encoding and the supported ones."""
    out, error = decode(fields)
    assert out is None
    assert f"unsupported image encoding {fields.encoding!r}" in error
    assert all(enc in error for enc in SUPPORTED_ENCODINGS)
    if ros_image.using_cv_bridge():   # cv_bridge may scale floats; it must not crash
        try:
            via_msg = ros_image.image_msg_to_bgr(fields.msg())
        except ImageEncodingError:
            return
        assert via_msg.dtype == np.uint8 and via_msg.shape == (fields.height, fields.width, 3)
        return
    with pytest.raises(ImageEncodingError, match=f"unsupported image encoding "
                                                 f"'{fields.encoding}'"):
        ros_image.image_msg_to_bgr(fields.msg())


# Odd arguments a direct (non-ROS) caller can pass; a sensor_msgs/Image cannot carry them
# (uint32 sizes, uint8[] data), but they must still end as ImageEncodingError.
@pytest.mark.parametrize("overrides", [
    pytest.param(dict(height=float("inf")), id="inf-height"),
    pytest.param(dict(step=np.float64("-inf")), id="inf-step"),
    pytest.param(dict(data=np.zeros(12, dtype=object)), id="object-array"),
    pytest.param(dict(data=np.array(1.0)), id="0d-float-array"),
    pytest.param(dict(height=float("nan")), id="nan-height"),
    pytest.param(dict(data=None), id="none-data"),
    pytest.param(dict(data="not bytes at all"), id="str-data"),
    pytest.param(dict(data=[256] * 12), id="list-out-of-range"),
    pytest.param(dict(encoding=b"bgr8"), id="bytes-encoding"),
])
def test_odd_python_arguments_raise_image_encoding_error(overrides):
    args = dict(encoding="bgr8", height=2, width=2, step=6, data=bytes(12))
    args.update(overrides)
    with pytest.raises(ImageEncodingError):
        image_to_bgr(**args)


# ---------------------------------------------------------------------------- layer 2: graph
RELIABLE = QoSProfile(depth=200, reliability=ReliabilityPolicy.RELIABLE)
N_DRAWN = 24


def drawn_corpus(n: int) -> list[Fields]:
    """``n`` message-representable fields from the same strategy, the same every run."""
    out: list[Fields] = []

    @settings(max_examples=n, phases=[Phase.generate], **PROPERTY)
    @given(image_fields(message_safe=True, max_data=1 << 16))
    def collect(fields):
        out.append(fields)

    collect()
    return out


def _f(label, encoding, height, width, step, length=None, raw=None, big=0) -> Fields:
    if raw is None:
        raw = random.Random(label).randbytes(step * height if length is None else length)
    return Fields(encoding, height, width, step, raw, raw, big, label)


def hand_picked() -> tuple[list[Fields], list[Fields]]:
    """(malformed, odd but valid) frames the issue names explicitly."""
    nan32 = np.full((4, 6), np.nan, np.float32).tobytes()
    nan64 = np.full((4, 6), np.nan, np.float64).tobytes()
    inf32x3 = np.full((4, 6, 3), np.inf, np.float32).tobytes()
    bad = [
        # every encoding the module does not decode, each with its own consistent geometry
        *[_f(f"encoding {e}", e, 4, 6, 6 * NOMINAL_BPP[e]) for e in ROS_IMAGE_ENCODINGS
          if e not in SUPPORTED_ENCODINGS],
        _f("32FC1 NaN", "32FC1", 4, 6, 24, raw=nan32),
        _f("64FC1 NaN", "64FC1", 4, 6, 48, raw=nan64),
        _f("32FC3 inf", "32FC3", 4, 6, 72, raw=inf32x3),
        _f("empty encoding", "", 4, 6, 18),
        _f("unknown encoding", "weird16", 4, 6, 18),
        _f("very large, short data", "bgr8", 8000, 8000, 24000, length=1000),
        _f("beyond the size limit, full data", "bgr8", 2, MAX_DIMENSION + 16,
           3 * (MAX_DIMENSION + 16)),
        _f("uint32 max height", "mono8", UINT32_MAX, 1, 1, length=64),
        _f("zero size", "bgr8", 0, 0, 0, length=0),
        _f("zero height", "bgr8", 0, 640, 1920, length=0),
        _f("zero width", "bgr8", 480, 0, 0, length=0),
        _f("zero size with data", "mono8", 0, 0, 0, length=64),
        _f("no data", "bgr8", 480, 640, 1920, length=0),
        _f("one byte short", "bgr8", 48, 64, 192, length=192 * 48 - 1),
        _f("step too small", "bgr8", 480, 640, 100, length=100 * 480),
        _f("step zero", "rgb8", 48, 64, 0, length=64 * 3 * 48),
        _f("padded step, unpadded data", "bgr8", 48, 64, 192 + 64, length=192 * 48),
        _f("step uint32 max", "bgr8", 4, 4, UINT32_MAX, length=48),
        _f("step implausibly large", "mono8", 4, 4, 4 * 2 + 4097, length=(8 + 4097) * 4),
        _f("yuyv odd width", "yuyv", 4, 5, 10),
        _f("mono16 step odd, too small", "mono16", 4, 6, 11, length=11 * 4),
    ]
    valid = [
        _f("upper-case BGR8", "BGR8", 8, 8, 24),
        _f("longer data than step*height", "bgr8", 8, 8, 24, length=24 * 8 + 100),
        _f("padded rows", "bgr8", 8, 8, 32),
        _f("mono16 big-endian", "mono16", 8, 8, 16, big=1),
        _f("mono16 odd step", "mono16", 3, 2, 5),
        _f("1x1 mono8", "mono8", 1, 1, 1),
        _f("one row at the width limit", "bgr8", 1, MAX_DIMENSION, 3 * MAX_DIMENSION),
        _f("one column at the height limit", "mono8", MAX_DIMENSION, 1, 1),
        _f("yuyv 2x2", "yuyv", 2, 2, 4),
        _f("uyvy", "uyvy", 4, 6, 12),
        _f("rgba8", "rgba8", 4, 6, 24),
    ]
    return bad, valid


@pytest.fixture(scope="module")
def corpus(astronaut_bgr):
    """[(label, Image message without stamp, accepted?, has a face?)], in publishing order:
    hand-picked and drawn messages with a real face frame every 8 messages (640x480 and
    1920x1080 in turn), and two more face frames at the end, after all the bad ones."""
    bad, valid = hand_picked()
    face, _ = composite_frame(astronaut_bgr, [(40, 100)])
    big_face, _ = composite_frame(astronaut_bgr, [(900, 400)], size=(1080, 1920))
    faces = [Fields("bgr8", 480, 640, 1920, face.tobytes(), None, 0, "face frame"),
             Fields("bgr8", 1080, 1920, 5760, big_face.tobytes(), None, 0, "1920x1080 face")]
    mixed = bad + valid + drawn_corpus(N_DRAWN)
    random.Random(3).shuffle(mixed)
    items = []
    for i, fields in enumerate(mixed):
        if i % 8 == 0:
            items.append(faces[(i // 8) % 2])
        items.append(fields)
    items += [faces[0], faces[0]]
    out = []
    for fields in items:
        # what arrives is the message after the wire (e.g. text after a NUL would be cut)
        wire = deserialize_message(serialize_message(fields.msg()), Image)
        try:
            ros_image.image_msg_to_bgr(wire)
            accepted = True
        except ImageEncodingError:
            accepted = False
        # the hand-picked ones must land where the issue says they belong (cv_bridge, where
        # installed, decides on its own for encodings / data lengths image_encoding refuses)
        if any(fields is b for b in bad) and not ros_image.using_cv_bridge():
            assert not accepted, fields.label
        elif any(fields is v for v in valid + faces) and not ros_image.using_cv_bridge():
            assert accepted, fields.label
        out.append((fields.label, wire, accepted, "face" in fields.label))
    return out


def _log_lines(logs, node_name):
    """Error lines about rejected input that ``node_name`` sent to /rosout."""
    from rcl_interfaces.msg import Log

    return [m.msg for m in logs.messages if m.name == node_name and m.level == Log.ERROR
            and "rejected" in m.msg.lower()]


def test_graph_survives_the_corpus_counts_every_rejection_and_throttles_the_log(
        ros_context, executor, helper_node, corpus):
    from fer_ros.msg import EmotionArray, FaceDetectionArray
    from rcl_interfaces.msg import Log

    from fer_ros.nodes.annotator_node import AnnotatorNode
    from fer_ros.nodes.face_detector_node import FaceDetectorNode
    from fer_ros.ros_image import copy_header

    n_bad = sum(not ok for _, _, ok, _ in corpus)
    n_ok = len(corpus) - n_bad
    assert 40 <= n_bad and n_ok >= 10

    logs = Collector(helper_node, Log, "/rosout", QoSProfile(
        depth=1000, reliability=ReliabilityPolicy.RELIABLE))
    images = helper_node.create_publisher(Image, "image_raw", RELIABLE)
    results = helper_node.create_publisher(EmotionArray, "emotions", RELIABLE)
    faces = Collector(helper_node, FaceDetectionArray, "faces", RELIABLE)
    annotated = Collector(helper_node, Image, "image_annotated", RELIABLE)
    # detector: one error line per 3600 s; annotator: no throttle (every rejection logged)
    detector = FaceDetectorNode(context=ros_context, parameter_overrides=[
        Parameter("log_throttle_s", value=3600.0), Parameter("qos_depth", value=10)])
    annotator = AnnotatorNode(context=ros_context, parameter_overrides=[
        Parameter("log_throttle_s", value=0.0), Parameter("publish_compressed", value=False)])
    for node in (detector, annotator):
        executor.add_node(node)
    assert wait_connected(executor, {images: 2, results: 1},
                          [(detector, "/faces"), (annotator, "/image_annotated")])
    # /rosout is connected when a line of each node comes through
    for node in (detector, annotator):
        node.get_logger().info("corpus test: start")
    assert spin_until(executor, lambda: {"face_detector", "annotator"} <= {
        m.name for m in logs.messages if m.msg == "corpus test: start"})

    def detector_idle(k):
        s = detector.stats()
        return s.get("received", 0) >= k and \
            s.get("processed", 0) + s.get("rejected", 0) + s.get("failed", 0) == s["received"]

    def annotator_done(k):
        s = annotator.stats()
        return s.get("published", 0) + s.get("rejected", 0) + s.get("failed", 0) >= k

    accepted_stamps, face_stamps, sizes = [], [], {}
    for k, (label, msg, ok, has_face) in enumerate(corpus, start=1):
        msg.header.stamp.sec = k
        msg.header.frame_id = "corpus"
        images.publish(msg)
        result = EmotionArray()
        result.header = copy_header(msg.header)
        results.publish(result)          # so the annotator decodes this frame too
        assert spin_until(executor, lambda: detector_idle(k) and annotator_done(k),
                          timeout=20.0), (k, label, detector.stats(), annotator.stats())
        if ok:
            accepted_stamps.append(k)
            sizes[k] = (msg.height, msg.width)
        if has_face:
            face_stamps.append(k)

    assert spin_until(executor, lambda: len(faces.messages) >= n_ok
                      and len(annotated.messages) >= n_ok
                      and len(_log_lines(logs, "annotator")) >= n_bad, timeout=20.0)
    spin_until(executor, lambda: False, timeout=0.5)   # anything extra would show up now

    # ---- face_detector: every message handled once, every malformed one rejected
    d = detector.stats()
    assert d["received"] == len(corpus) and d["dropped"] == 0, d
    assert d["rejected"] == n_bad, d
    assert d["processed"] == n_ok and d.get("failed", 0) == 0, d
    # output only for the decodable frames, in order; faces found after all the bad input
    assert [m.header.stamp.sec for m in faces.messages] == accepted_stamps
    by_stamp = {m.header.stamp.sec: m for m in faces.messages}
    for k in face_stamps:
        assert len(by_stamp[k].faces) >= 1, k
    assert corpus[-1][3] and len(by_stamp[len(corpus)].faces) == 1

    # ---- annotator: the same frames rejected, the others annotated at their own size
    a = annotator.stats()
    assert a["frames_received"] == len(corpus) and a["results_received"] == len(corpus)
    assert a["rejected"] == n_bad and a["published"] == n_ok and a.get("failed", 0) == 0, a
    assert [m.header.stamp.sec for m in annotated.messages] == accepted_stamps
    for m in annotated.messages:
        assert (m.encoding, m.height, m.width) == ("bgr8", *sizes[m.header.stamp.sec])
        assert len(m.data) == m.height * m.width * 3

    # ---- logging: throttled by log_throttle_s, nothing else went wrong
    det_lines = _log_lines(logs, "face_detector")
    assert len(det_lines) == 1, det_lines          # 3600 s: one line for all rejections
    ann_lines = _log_lines(logs, "annotator")
    assert len(ann_lines) == n_bad, len(ann_lines)  # 0 s: one line per rejection
    assert not [m.msg for m in logs.messages
                if m.name in ("face_detector", "annotator") and "failed" in m.msg]

    # ---- burst: the whole corpus again without waiting; frames overwritten in the input
    # history (depth 10) are dropped, but every message published is accounted for once
    before = detector.stats()
    n_faces_msgs = len(faces.messages)
    for k, (_label, msg, _ok, _has_face) in enumerate(corpus, start=1):
        msg.header.stamp.sec = 1000 + k
        images.publish(msg)
        executor.spin_once(timeout_sec=0.0)   # the node takes what it can meanwhile

    def settled(timeout=30.0):   # the detector is idle and nothing new arrived for 1 s
        last, deadline = -1, time.monotonic() + timeout
        while time.monotonic() < deadline:
            received = detector.stats().get("received", 0)
            if received == last and detector_idle(received):
                return True
            last = received
            spin_until(executor, lambda: False, timeout=1.0)
        return False

    assert settled(), detector.stats()
    d = {key: detector.stats().get(key, 0) - before.get(key, 0)
         for key in ("received", "dropped", "rejected", "processed", "failed")}
    assert 0 < d["received"] <= len(corpus), d
    assert d["received"] + d["dropped"] == len(corpus), d          # the last one arrives
    assert d["rejected"] + d["processed"] == d["received"], d
    assert d["failed"] == 0 and d["rejected"] <= n_bad and d["processed"] <= n_ok, d
    assert spin_until(executor, lambda: len(faces.messages) == n_faces_msgs + d["processed"])

    # ---- both nodes are still alive, in the graph, and process the next valid frame
    assert {"face_detector", "annotator"} <= set(helper_node.get_node_names())
    last = corpus[-1][1]
    last.header.stamp.sec = 5000
    images.publish(last)
    results.publish(EmotionArray(header=copy_header(last.header)))
    assert spin_until(executor, lambda: faces.messages[-1].header.stamp.sec == 5000
                      and any(m.header.stamp.sec == 5000 for m in annotated.messages))
    assert len(faces.messages[-1].faces) == 1
    assert detector.stats().get("failed", 0) == 0 and annotator.stats().get("failed", 0) == 0


# ---------------------------------------------------------------------------- faces, one by one
EXTREME = (0, 1, 639, 640, 2**31 - 1, 2**31, 2**32 - 1)
ODD_LABELS = ("", "happy", "x" * 100_000, "日本語 ✓", "\x00\n\t")
ODD_CONFIDENCES = (0.5, float("nan"), float("inf"), -float("inf"), -1.0, 1e300)


def test_annotator_draws_every_frame_whatever_its_faces(ros_context, executor, helper_node):
    """Every combination of extreme box values (uint32 RegionOfInterest), odd labels and
    confidences: each frame is still published, and exactly the faces with nothing inside the
    image are skipped and counted."""
    from fer_ros.msg import Emotion, EmotionArray

    from fer_ros.drawing import clip_box
    from fer_ros.nodes.annotator_node import AnnotatorNode

    rng = random.Random(14)
    node = AnnotatorNode(context=ros_context, parameter_overrides=[
        Parameter("publish_compressed", value=False)])
    executor.add_node(node)
    reliable = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
    images = helper_node.create_publisher(Image, "image_raw", reliable)
    results = helper_node.create_publisher(EmotionArray, "emotions", reliable)
    annotated = Collector(helper_node, Image, "image_annotated", reliable)
    assert wait_connected(executor, {images: 1, results: 1}, [(node, "/image_annotated")])
    frames, expected_skips = 20, 0
    for sec in range(1, frames + 1):
        result = EmotionArray()
        result.header.stamp.sec, result.header.frame_id = sec, "faces"
        for _ in range(12):
            face = Emotion()
            box = [rng.choice(EXTREME) for _ in range(4)]
            face.box.x_offset, face.box.y_offset, face.box.width, face.box.height = box
            face.label = rng.choice(ODD_LABELS)
            face.confidence = rng.choice(ODD_CONFIDENCES)
            face.face_id = rng.choice((0, 1, 2**31 - 1))
            expected_skips += clip_box(box, 640, 480) is None
            result.faces.append(face)
        results.publish(result)
        frame = Image(height=480, width=640, encoding="bgr8", step=640 * 3)
        frame.header = result.header
        frame.data = bytes(640 * 3 * 480)
        images.publish(frame)
        assert spin_until(executor, lambda: node.stats().get("published", 0) >= sec,
                          timeout=20.0), (sec, node.stats())
    assert spin_until(executor, lambda: len(annotated.messages) >= frames)
    stats = node.stats()
    assert stats.get("failed", 0) == 0 and stats.get("faces_skipped", 0) == expected_skips
    assert 0 < expected_skips < 12 * frames
