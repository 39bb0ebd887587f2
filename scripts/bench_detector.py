#!/usr/bin/env python3
"""Time the face detectors on 640x480 frames and print ms per frame.

    python scripts/bench_detector.py                 # sample clip, 1- and 5-face grids, blank
    python scripts/bench_detector.py --detectors blazeface blazeface+hint --repeat 2 --faces 5

Frames are decoded first (decoding is not timed).  For each detector and clip it prints the
median, 90th percentile and mean wall time of ``detect()`` per frame, the process CPU time
per frame (all threads; less disturbed by other processes), faces found per frame, and
for BlazeFace the number of stage-2 (verification) passes per frame.  ``blazeface+hint`` calls
``detect(frame, trusted_boxes=...)`` as the detector node does with tracking: the previous
frame's boxes of confirmed ``FaceTracker`` tracks (the tracker's own time is not counted).
Numbers depend on the machine and its load: run it on an idle machine (it uses one
interpreter thread by default).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import platform
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from fer_ros import sample_clip  # noqa: E402
from fer_ros.face_detection import make_detector  # noqa: E402
from fer_ros.tracking import FaceTracker  # noqa: E402

# name -> (make_detector name, kwargs)
CONFIGS = {
    "blazeface": ("blazeface", {}),
    "blazeface+hint": ("blazeface", {}),   # with trusted_boxes from a tracker
    "blazeface-noverify": ("blazeface", {"verify": False}),
    "blazeface-320": ("blazeface", {"input_size": 320}),
    "blazeface-full_range": ("blazeface", {"model": "full_range", "verify": False}),
    "haar": ("haar", {}),
}


def load_clips(faces, max_frames: int):
    clips = {"sample clip (0-2 faces)": list(sample_clip.read_frames(max_frames=max_frames))}
    for n in faces:
        if n == 2:
            continue
        try:
            tmp = pathlib.Path(tempfile.mkdtemp()) / f"faces{n}.mp4"
            sample_clip.make_clip(tmp, faces=n, duration_s=max_frames / sample_clip.FPS)
            clips[f"{n}-face grid"] = list(sample_clip.read_frames(tmp, max_frames))
        except RuntimeError as exc:  # scikit-image missing
            print(f"(no {n}-face clip: {exc})")
    clips["blank frame"] = [np.zeros((480, 640, 3), np.uint8)] * min(max_frames, 60)
    return clips


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--detectors", nargs="+", default=["blazeface", "blazeface+hint",
                                                        "blazeface-noverify",
                                                        "blazeface-full_range", "haar"],
                    choices=sorted(CONFIGS))
    ap.add_argument("--faces", type=int, nargs="*", default=[1, 5],
                    help="also time N-face grid clips")
    ap.add_argument("--frames", type=int, default=180, help="frames per clip")
    ap.add_argument("--repeat", type=int, default=1, help="passes over each clip")
    ap.add_argument("--threads", type=int, default=1, help="TFLite threads (BlazeFace)")
    args = ap.parse_args(argv)

    clips = load_clips(args.faces, args.frames)
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f} (Python {platform.python_version()})")
    print(f"{'detector':22s} {'clip':22s} {'median':>7s} {'p90':>7s} {'mean':>7s} {'cpu':>7s}  "
          f"{'faces/fr':>8s} {'verif/fr':>8s}")
    for key in args.detectors:
        name, kw = CONFIGS[key]
        kw = dict(kw)
        if name == "blazeface":
            kw["num_threads"] = args.threads
        det = make_detector(name, **kw)
        for clip_name, frames in clips.items():
            det.detect(frames[0])  # warm-up
            v0 = getattr(det, "verifications", 0)
            f0 = getattr(det, "frames", 0)
            times, found, cpu = [], 0, 0.0
            for _ in range(args.repeat):
                tracker, trusted = FaceTracker(), None
                for f in frames:
                    c, t = time.process_time(), time.perf_counter()
                    dets = det.detect(f, trusted_boxes=trusted) if trusted else det.detect(f)
                    times.append((time.perf_counter() - t) * 1000)
                    cpu += time.process_time() - c
                    found += len(dets)
                    if key.endswith("+hint"):  # as the node: boxes of confirmed tracks
                        tracks = tracker.update([d.box for d in dets])
                        trusted = [d.box for d, tr in zip(dets, tracks) if tr.confirmed]
            cpu_ms = cpu * 1000 / len(times)
            t = np.asarray(times)
            n = len(times)
            verif = ""
            if hasattr(det, "verifications") and det.frames > f0:
                verif = f"{(det.verifications - v0) / (det.frames - f0):8.2f}"
            print(f"{key:22s} {clip_name:22s} {np.median(t):7.1f} {np.percentile(t, 90):7.1f} "
                  f"{t.mean():7.1f} {cpu_ms:7.1f}  {found / n:8.2f} {verif:>8s}", flush=True)
    print("times in ms per 640x480 frame (median/p90/mean: wall clock; cpu: process CPU time "
          "per frame, all threads, less sensitive to other load)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
