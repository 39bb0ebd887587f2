"""The bare loop: what the face_detector and emotion nodes compute per frame, without ROS.

For every frame of a clip, in order: ``search.process(bgr, t_s)`` (``fer_ros.face_tracking.search``,
the object the face_detector node calls, built from the node's parameter values), the node's
crop (``fer_ros.face_crop.node_crop``) per detection, ``to_model_input`` and
``EmotionClassifier.predict`` (the model the emotion node loads) on the faces due
(``fer_ros.classify_interval``, as the emotion node's ``classify_interval_ms`` says).
Timed per frame, decoding the clip not included.  ``t_s`` = frame index / stamp rate: the
stamps a camera publishing the clip at that rate gives, and frame i is handed over no sooner
than i / rate seconds after the first (wall time), as a camera at that rate would: the full
search runs beside the per-frame work on a worker thread (``fer_ros.face_tracking.search``),
so what it finds joins as it would in the graph run it is compared with.  The per-frame time
is the caller's (the critical path); ``cpu_ms`` is the process's CPU time per frame, the
worker's included.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

WARMUP_FRAMES = 5       # first calls (interpreter allocation, caches) are not timed


@dataclass
class BareLoop:
    """Per processed frame: wall time, the reported boxes and their track ids, whether it
    searched."""

    frame_times_s: list[float] = field(default_factory=list)
    boxes: list[list[tuple[int, int, int, int]]] = field(default_factory=list)
    ids: list[list[int]] = field(default_factory=list)
    searched: list[bool] = field(default_factory=list)
    cpu_s: float = 0.0
    search_cpu_s: float = 0.0

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
                "search_cpu_ms": (1e3 * self.search_cpu_s / len(self.frame_times_s))
                if frames is None else float("nan"),
                "searched_percent": 100.0 * float(np.mean([self.searched[i] for i in idx])),
                "faces_per_frame": float(np.mean([len(self.boxes[i]) for i in idx]))}


@dataclass
class Frame:
    """What one step reports for a frame: boxes (x, y, w, h), their track ids (0: none),
    whether it searched the whole frame."""

    boxes: list[tuple[int, int, int, int]]
    ids: list[int]
    searched: bool


def run_frames(clip: Path, step: Callable[[np.ndarray, float], Frame], stamp_rate: float,
               max_seconds: float | None = None,
               finish: Callable[[], None] | None = None,
               max_frames: int | None = None) -> BareLoop:
    """``step(bgr, t_s)`` on each frame of ``clip``, timed and paced as :func:`run` says, to
    the clip's end, ``max_seconds`` or ``max_frames``; ``finish()`` after the last frame,
    inside the CPU-time window (work left on threads)."""
    import cv2

    out = BareLoop()
    cap = cv2.VideoCapture(str(clip))
    if not cap.isOpened():
        raise RuntimeError(f"cannot open {clip}")
    start = time.perf_counter()
    cpu_start = None
    try:
        i = 0
        while i == 0 or ((max_seconds is None or time.perf_counter() - start < max_seconds)
                         and (max_frames is None or i < max_frames)):
            ok, bgr = cap.read()
            if not ok:
                break
            delay = start + i / stamp_rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            if i == WARMUP_FRAMES:
                cpu_start = time.process_time()
            t0 = time.perf_counter()
            frame = step(bgr, i / stamp_rate)
            out.frame_times_s.append(time.perf_counter() - t0)
            out.boxes.append(frame.boxes)
            out.ids.append(frame.ids)
            out.searched.append(frame.searched)
            i += 1
        if finish is not None:
            finish()
        if cpu_start is not None:
            out.cpu_s = time.process_time() - cpu_start
    finally:
        cap.release()
    return out


def run(clip: Path, values: Mapping[str, Any], classifier, stamp_rate: float,
        max_seconds: float | None = None, classify_interval_s: float = 0.0) -> BareLoop:
    """Process ``clip`` frame by frame from the start, paced at ``stamp_rate``, to its end
    or for ``max_seconds`` (wall time, warm-up included; one frame at least)."""
    from fer_ros.classify_interval import LatestScores
    from fer_ros.face_crop import node_crop
    from fer_ros.face_tracking.search import make_face_search
    from fer_ros.preprocessing import to_model_input

    search = make_face_search(values)
    latest = LatestScores(classify_interval_s)

    def step(bgr: np.ndarray, t_s: float) -> Frame:
        found = search.process(bgr, t_s)
        ids = ([t.id for t in found.tracks] if found.tracks is not None
               else [0] * len(found.detections))
        crops = [node_crop(bgr, d) for d in found.detections]     # the detector crops all
        latest.for_frame(ids, t_s, crops, lambda due: classifier.predict(to_model_input(due)))
        latest.forget(ids + found.tracked_ids)
        return Frame([d.box for d in found.detections], ids, bool(found.searched))

    try:
        out = run_frames(clip, step, stamp_rate, max_seconds, finish=search.wait_for_search)
        out.search_cpu_s = search.search_cpu_s
    finally:
        search.close()
    return out
