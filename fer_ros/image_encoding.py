"""sensor_msgs/Image fields <-> bgr8 NumPy arrays, JPEG encoding and JPEG / PNG decoding
(sensor_msgs/CompressedImage payloads).  ROS-free.

``image_to_bgr`` takes the raw message fields (so it works with rclpy messages, rosbag
records or plain test data) and returns an (H, W, 3) uint8 BGR array.  It is on the hot path
(every camera frame), so it never loops over pixels in Python: the buffer is wrapped with
``np.frombuffer`` and viewed row by row through ``step`` (row padding costs nothing), and
colour conversion is a single OpenCV call.  ``message_fields_to_bgr`` does the same on any
object with those attributes (an rclpy message, a decoded bag record).

For ``bgr8`` the result is a *view* of ``data`` (no copy): it is read-only when ``data`` is
immutable (``bytes``) and aliases the message buffer otherwise (rclpy's ``array.array``).
Pass ``copy=True`` for an owned, writable, C-contiguous array.  All other encodings return a
new array.

Supported encodings (ROS names, see sensor_msgs/image_encodings.hpp):

=================  ===  ============================================================
encoding           B/px notes
=================  ===  ============================================================
bgr8, rgb8         3
bgra8, rgba8       4    alpha dropped
mono8              1    grey replicated to 3 channels
mono16             2    endianness from is_bigendian; scaled to 8 bits (see below)
yuv422 / uyvy      2    byte order U0 Y0 V0 Y1 ("yuv422" is UYVY in ROS); even width
yuv422_yuy2 / yuyv 2    byte order Y0 U0 Y1 V0; even width
=================  ===  ============================================================

mono16 scaling: by default (``mono16_shift=None``) the frame is shifted right by the smallest
number of bits that brings its maximum into 0..255, so 16-bit data is divided by 256 and 10-
or 12-bit data packed in mono16 (common on machine-vision cameras) keeps its contrast
(>> 2 or >> 4).  A fixed shift can be given instead (8 matches cv_bridge's mono16 -> mono8).
"""

from __future__ import annotations

import array

import cv2
import numpy as np

from fer_ros.budget import oversized_image
from fer_ros.preprocessing import to_bgr8

__all__ = [
    "ImageEncodingError",
    "SUPPORTED_ENCODINGS",
    "OUTPUT_ENCODINGS",
    "BYTES_PER_PIXEL",
    "MAX_DIMENSION",
    "MAX_PIXELS",
    "image_to_bgr",
    "message_fields_to_bgr",
    "bgr_to_image_fields",
    "encode_jpeg",
    "compressed_to_bgr",
]


class ImageEncodingError(ValueError):
    """The image fields cannot be converted (unsupported encoding, inconsistent sizes...)."""


# bytes per pixel of each accepted encoding
BYTES_PER_PIXEL = {
    "bgr8": 3,
    "rgb8": 3,
    "bgra8": 4,
    "rgba8": 4,
    "mono8": 1,
    "mono16": 2,
    "yuv422": 2,       # UYVY (ROS 1 / ROS 2 name)
    "uyvy": 2,         # ROS 2 alias of yuv422
    "yuv422_yuy2": 2,  # YUYV
    "yuyv": 2,         # ROS 2 alias of yuv422_yuy2
}
SUPPORTED_ENCODINGS = tuple(BYTES_PER_PIXEL)
# encodings bgr_to_image_fields can produce
OUTPUT_ENCODINGS = ("bgr8", "rgb8", "mono8")

# sanity limits (a corrupt header must not make us allocate gigabytes)
MAX_DIMENSION = 16384
MAX_PIXELS = 64 * 1024 * 1024

_CVT = {
    "rgb8": cv2.COLOR_RGB2BGR,
    "bgra8": cv2.COLOR_BGRA2BGR,
    "rgba8": cv2.COLOR_RGBA2BGR,
    "mono8": cv2.COLOR_GRAY2BGR,
    "yuv422": cv2.COLOR_YUV2BGR_UYVY,
    "uyvy": cv2.COLOR_YUV2BGR_UYVY,
    "yuv422_yuy2": cv2.COLOR_YUV2BGR_YUYV,
    "yuyv": cv2.COLOR_YUV2BGR_YUYV,
}


def _as_uint8_buffer(data) -> np.ndarray:
    """1-D uint8 view of ``data`` (bytes, bytearray, memoryview, array.array, ndarray)."""
    if isinstance(data, np.ndarray):
        if data.dtype != np.uint8:
            if not data.flags.c_contiguous:
                raise ImageEncodingError(
                    f"image data array must be uint8 or C-contiguous, got {data.dtype}")
            try:
                data = data.view(np.uint8)
            except (TypeError, ValueError) as exc:
                raise ImageEncodingError(
                    f"image data array of {data.dtype} is not a byte buffer: {exc}") from exc
        return data.reshape(-1)
    try:
        return np.frombuffer(data, dtype=np.uint8)
    except (TypeError, ValueError, BufferError):
        pass
    if isinstance(data, (list, tuple)):  # plain sequence of ints (slow path, tests)
        try:
            return np.asarray(data, dtype=np.uint8).reshape(-1)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ImageEncodingError(f"image data is not a sequence of bytes: {exc}") from exc
    raise ImageEncodingError(f"image data of type {type(data).__name__} is not a byte buffer")


def _check_int(name: str, value) -> int:
    try:
        v = int(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ImageEncodingError(f"{name} must be an integer, got {value!r}") from exc
    if v != value:
        raise ImageEncodingError(f"{name} must be an integer, got {value!r}")
    return v


def _mono16_to_8(m16: np.ndarray, shift: int | None) -> np.ndarray:
    if shift is None:
        peak = int(m16.max()) if m16.size else 0
        shift = max(0, peak.bit_length() - 8)
    if not 0 <= int(shift) <= 16:
        raise ImageEncodingError(f"mono16_shift must be in 0..16, got {shift}")
    out = np.right_shift(m16, int(shift))
    np.minimum(out, 255, out=out)
    return out.astype(np.uint8)


def image_to_bgr(encoding: str, height: int, width: int, step: int, data,
                 is_bigendian: int = 0, *, copy: bool = False,
                 mono16_shift: int | None = None) -> np.ndarray:
    """Convert sensor_msgs/Image fields to an (H, W, 3) uint8 BGR array.

    Raises ImageEncodingError (a ValueError) with a message naming the problem for an
    unsupported encoding, a zero or absurd size, ``step < width * bytes_per_pixel``, data
    shorter than ``step * height`` or an odd width for the YUV 4:2:2 encodings.  Data longer
    than ``step * height`` is accepted (the excess is ignored).
    """
    if not isinstance(encoding, str):
        raise ImageEncodingError(f"encoding must be a string, got {type(encoding).__name__}")
    enc = encoding.strip().lower()
    bpp = BYTES_PER_PIXEL.get(enc)
    if bpp is None:
        raise ImageEncodingError(
            f"unsupported image encoding {encoding!r}; supported: "
            f"{', '.join(SUPPORTED_ENCODINGS)}")
    height = _check_int("height", height)
    width = _check_int("width", width)
    step = _check_int("step", step)
    if height <= 0 or width <= 0:
        raise ImageEncodingError(f"empty image: {width}x{height} ({encoding})")
    if height > MAX_DIMENSION or width > MAX_DIMENSION or height * width > MAX_PIXELS:
        raise ImageEncodingError(
            f"image size {width}x{height} is beyond the limits (each side <= {MAX_DIMENSION}, "
            f"<= {MAX_PIXELS} pixels): corrupt header?")
    row = width * bpp
    if step < row:
        raise ImageEncodingError(
            f"step {step} is smaller than width * bytes per pixel = {width} * {bpp} = {row} "
            f"({encoding})")
    if step > row + 4096 + row:  # more than twice a row plus a page of padding: not padding
        raise ImageEncodingError(f"step {step} is implausibly large for a {row}-byte row")
    if bpp == 2 and enc != "mono16" and width % 2:
        raise ImageEncodingError(f"{encoding} (YUV 4:2:2) needs an even width, got {width}")
    buf = _as_uint8_buffer(data)
    need = step * height
    if buf.size < need:
        raise ImageEncodingError(
            f"image data has {buf.size} bytes, expected step * height = {step} * {height} = "
            f"{need} ({encoding} {width}x{height})")
    # (H, step) rows -> (H, W, bpp) view; padding bytes are skipped by the row stride
    rows = buf[:need].reshape(height, step)[:, :row]

    if enc == "mono16":
        dt = np.dtype(">u2" if is_bigendian else "<u2")
        m16 = rows.view(dt)  # (H, W) view, row stride = step (any step, even odd)
        gray = _mono16_to_8(m16, mono16_shift)
        return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)

    pixels = rows.reshape(height, width, bpp)
    if enc == "bgr8":
        return pixels.copy(order="C") if copy else pixels
    if enc == "mono8":
        return cv2.cvtColor(pixels[:, :, 0], cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(pixels, _CVT[enc])


def message_fields_to_bgr(msg, max_pixels: int = 0, **kwargs) -> np.ndarray:
    """``image_to_bgr`` on the fields of any object with sensor_msgs/Image attributes (an
    rclpy message, a decoded bag record, a namespace); an image over ``max_pixels``
    (0 = no budget) is refused on width x height before its data is read."""
    if max_pixels:
        too_big = oversized_image(msg.width, msg.height, max_pixels)
        if too_big:
            raise ImageEncodingError(too_big)
    return image_to_bgr(msg.encoding, msg.height, msg.width, msg.step, msg.data,
                        getattr(msg, "is_bigendian", 0), **kwargs)


def bgr_to_image_fields(bgr: np.ndarray, encoding: str = "bgr8") -> dict:
    """Fields of a sensor_msgs/Image holding ``bgr`` (H, W, 3) uint8 in ``encoding``.

    Returns ``dict(encoding, height, width, step, data, is_bigendian=0)``; ``data`` is an
    ``array.array('B')`` (what rclpy stores for uint8[]; assigning a ``bytes`` object to
    ``msg.data`` would make rclpy check every byte in Python), rows unpadded
    (step = width * channels).  encoding: "bgr8", "rgb8" or "mono8".  A (H, W) or (H, W, 1)
    input is accepted as grey.
    """
    if not isinstance(bgr, np.ndarray) or bgr.dtype != np.uint8:
        raise ImageEncodingError("bgr_to_image_fields expects a uint8 numpy array")
    enc = str(encoding).strip().lower()
    if enc not in OUTPUT_ENCODINGS:
        raise ImageEncodingError(
            f"cannot encode to {encoding!r}; choose one of {', '.join(OUTPUT_ENCODINGS)}")
    if bgr.ndim == 3 and bgr.shape[2] == 1:
        bgr = bgr[:, :, 0]
    if bgr.ndim == 2:
        # grey replicated to three channels reads the same in BGR and RGB order
        img = bgr if enc == "mono8" else to_bgr8(bgr)
    elif bgr.ndim == 3 and bgr.shape[2] == 3:
        if enc == "bgr8":
            img = bgr
        elif enc == "rgb8":
            img = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        else:
            img = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    else:
        raise ImageEncodingError(f"expected an (H, W, 3) or (H, W) image, got {bgr.shape}")
    h, w = img.shape[:2]
    if h == 0 or w == 0:
        raise ImageEncodingError(f"empty image: {w}x{h}")
    ch = 1 if img.ndim == 2 else img.shape[2]
    data = array.array("B")
    data.frombytes(np.ascontiguousarray(img).data)
    return dict(encoding=enc, height=h, width=w, step=w * ch, data=data, is_bigendian=0)


def encode_jpeg(bgr: np.ndarray, quality: int = 80) -> bytes:
    """JPEG bytes of a bgr8 (or mono8) image (e.g. for sensor_msgs/CompressedImage)."""
    if not isinstance(bgr, np.ndarray) or bgr.dtype != np.uint8 or bgr.ndim not in (2, 3) \
            or bgr.size == 0 or (bgr.ndim == 3 and bgr.shape[2] not in (1, 3)):
        raise ImageEncodingError(
            f"encode_jpeg expects a non-empty uint8 (H, W, 3) or (H, W) image, got "
            f"{getattr(bgr, 'shape', type(bgr).__name__)}")
    q = int(quality)
    if not 1 <= q <= 100:
        raise ImageEncodingError(f"JPEG quality must be in 1..100, got {quality}")
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, q])
    if not ok:  # pragma: no cover - OpenCV failure
        raise ImageEncodingError("OpenCV failed to encode JPEG")
    return buf.tobytes()


_JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_PNG_END = b"IEND\xaeB`\x82"          # the IEND chunk (type + CRC) that closes every PNG
# JPEG start-of-frame markers (baseline, progressive, ...; not DHT/JPG/DAC: C4, C8, CC)
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_size(buf: bytes) -> tuple[int, int]:
    """(width, height) from the JPEG's start-of-frame segment (walks the few header segments
    before the compressed data, so a corrupt size is caught before OpenCV allocates)."""
    i = 2
    while i + 9 <= len(buf):
        if buf[i] != 0xFF:
            raise ImageEncodingError(f"corrupt JPEG: no marker at byte {i}")
        marker = buf[i + 1]
        if marker == 0xFF:                       # fill byte
            i += 1
            continue
        length = int.from_bytes(buf[i + 2:i + 4], "big")
        if marker in _JPEG_SOF:
            return (int.from_bytes(buf[i + 7:i + 9], "big"),
                    int.from_bytes(buf[i + 5:i + 7], "big"))
        if marker == 0xDA or length < 2:        # scan data before any frame header
            break
        i += 2 + length
    raise ImageEncodingError("corrupt or truncated JPEG: no frame header")


def _png_size(buf: bytes) -> tuple[int, int]:
    if len(buf) < 24 or buf[12:16] != b"IHDR":
        raise ImageEncodingError("corrupt or truncated PNG: no IHDR header")
    return int.from_bytes(buf[16:20], "big"), int.from_bytes(buf[20:24], "big")


def compressed_to_bgr(image_format: str, data, max_pixels: int = 0) -> np.ndarray:
    """Decode a sensor_msgs/CompressedImage payload (JPEG or PNG) to (H, W, 3) uint8 BGR.

    ``image_format`` is the message's ``format`` field (image_transport writes e.g.
    "bgr8; jpeg compressed bgr8", "rgb8; png compressed bgr8"; bags often hold just "jpeg");
    the codec is taken from the payload's signature, and a format naming another codec
    (e.g. image_transport's "compressedDepth") is rejected.  Raises ImageEncodingError for an
    empty, unknown, corrupt or truncated payload (a truncated JPEG has no end-of-image
    marker, a truncated PNG no IEND chunk: OpenCV would return a partly grey frame) and for
    sizes beyond ``MAX_DIMENSION`` / ``MAX_PIXELS`` or over ``max_pixels`` (0 = no budget),
    read from the payload's header before decoding.
    """
    fmt = str(image_format).lower()
    if "compresseddepth" in fmt:
        raise ImageEncodingError(f"unsupported CompressedImage format {image_format!r} "
                                 "(compressedDepth)")
    buf = _as_uint8_buffer(data)
    raw = buf.tobytes()
    if raw.startswith(_JPEG_MAGIC):
        codec = "jpeg"
        # EOI marker; encoders may pad a few bytes after it
        if b"\xff\xd9" not in raw[-64:]:
            raise ImageEncodingError(f"truncated JPEG ({len(raw)} bytes, no end-of-image "
                                     "marker)")
        width, height = _jpeg_size(raw)
    elif raw.startswith(_PNG_MAGIC):
        codec = "png"
        if not raw.endswith(_PNG_END):
            raise ImageEncodingError(f"truncated PNG ({len(raw)} bytes, no IEND chunk)")
        width, height = _png_size(raw)
    elif raw:
        raise ImageEncodingError(f"CompressedImage payload ({len(raw)} bytes, format "
                                 f"{image_format!r}) is neither JPEG nor PNG")
    else:
        raise ImageEncodingError(f"empty CompressedImage payload (format {image_format!r})")
    if codec not in fmt and ("jpeg" in fmt or "png" in fmt):
        raise ImageEncodingError(f"format {image_format!r} does not match the {codec} "
                                 "payload")
    if not (0 < width <= MAX_DIMENSION and 0 < height <= MAX_DIMENSION
            and width * height <= MAX_PIXELS):
        raise ImageEncodingError(f"{codec} size {width}x{height} is beyond the limits (each "
                                 f"side 1..{MAX_DIMENSION}, <= {MAX_PIXELS} pixels)")
    too_big = oversized_image(width, height, max_pixels)
    if too_big:
        raise ImageEncodingError(too_big)
    bgr = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if bgr is None:
        raise ImageEncodingError(f"corrupt {codec} payload ({buf.size} bytes): OpenCV "
                                 "cannot decode it")
    return bgr
