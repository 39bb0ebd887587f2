"""The bare loop: what the face_detector and emotion nodes compute per frame, without ROS.

For every frame of a clip, in order: ``search.process(bgr, t_s)`` (``fer_ros.face_search``,
the object the face_detector node calls, built from the node's parameter values), the node's
crop (``fer_ros.face_crop.node_crop``) per detection, ``to_model_input`` and
``EmotionClassifier.predict`` (the model the emotion node loads).  Timed per frame, decoding
the clip not included.  ``t_s`` = frame index / stamp rate: the stamps a camera publishing
the clip at that rate gives, so a search schedule in ms behaves as in the graph run it is
compared with.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

WARMUP_FRAMES = 5       # first calls (interpreter allocation, caches) are not timed


@dataclass
class BareLoop:
    """Per processed frame: wall time, the reported boxes, whether it searched."""

    frame_times_s: list[float] = field(default_factory=list)
    boxes: list[list[tuple[int, int, int, int]]] = field(default_factory=list)
    searched: list[bool] = field(default_factory=list)
    cpu_s: float = 0.0

    def summary(self, frames: Sequence[int] | None = None) -> dict[str, float]:
        """Rate and per-frame time over ``frames`` (indices; default all), warm-up left out."""
        idx = [i for i in (range(len(self.frame_times_s)) if frames is None else frames)
               if WARMUP_FRAMES <= i < len(self.frame_times_s)]
        t = np.array([self.frame_times_s[i] for i in idx], float)
        if not t.size:
            return {"frames": 0, "frames_per_s": float("nan"), "mean_ms": float("nan"),
                    "p95_ms": float("nan"), "searched_percent": float("nan"),
                    "faces_per_frame": float("nan")}
        timed = self.frame_times_s[WARMUP_FRAMES:]
        return {"frames": int(t.size),
                "frames_per_s": float(t.size / t.sum()),
                "mean_ms": float(1e3 * t.mean()),
                "p95_ms": float(1e3 * np.percentile(t, 95)),
                "cpu_ms": (1e3 * self.cpu_s / len(timed)) if frames is None and timed
                else float("nan"),
                "searched_percent": 100.0 * float(np.mean([self.searched[i] for i in idx])),
                "faces_per_frame": float(np.mean([len(self.boxes[i]) for i in idx]))}


def run(clip: Path, values: Mapping[str, Any], classifier, stamp_rate: float,
        max_seconds: float | None = None) -> BareLoop:
    """Process ``clip`` frame by frame from the start, to its end or for ``max_seconds`` of
    processing time (warm-up included)."""
    import cv2

    from fer_ros.face_crop import node_crop
    from fer_ros.face_search import make_face_search
    from fer_ros.preprocessing import to_model_input

    search = make_face_search(values)
    out = BareLoop()
    cap = cv2.VideoCapture(str(clip))
    if not cap.isOpened():
        raise RuntimeError(f"cannot open {clip}")
    try:
        i = 0
        while max_seconds is None or sum(out.frame_times_s) < max_seconds:
            ok, bgr = cap.read()
            if not ok:
                break
            cpu0, t0 = time.process_time(), time.perf_counter()
            found = search.process(bgr, i / stamp_rate)
            crops = [node_crop(bgr, d) for d in found.detections]
            if crops:
                classifier.predict(to_model_input(crops))
            dt = time.perf_counter() - t0
            if i >= WARMUP_FRAMES:
                out.cpu_s += time.process_time() - cpu0
            out.frame_times_s.append(dt)
            out.boxes.append([d.box for d in found.detections])
            out.searched.append(bool(found.searched))
            i += 1
    finally:
        cap.release()
    return out
