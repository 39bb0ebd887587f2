#!/usr/bin/env python3
"""Time the face detectors on 640x480 frames and print ms per frame.

    python scripts/bench_detector.py                 # sample clip, 1- and 5-face grids, blank
    python scripts/bench_detector.py --detectors search search-every --repeat 2 --faces 5

Frames are decoded first (decoding is not timed).  For each detector and clip it prints the
median, 90th percentile and mean wall time per frame, the process CPU time per frame (all
threads; less disturbed by other processes), faces found per frame, the recall against the
clips' ground truth (a true face fully in view and >= 24 px, found within 30 % of its size),
and for BlazeFace the full searches, the 192x192 verification passes (full_range) and the
128x128 close-up passes (short_range, ``refine``) per frame.

``search`` is what the face_detector node runs per frame: ``fer_ros.face_tracking.search`` with the
node's defaults (close-ups on every frame, the full search beside them on a worker thread;
tracker included; its time per frame is the caller's, the worker's CPU time is in ``cpu``),
frames stamped at ``--stamp-fps`` as fast as they go; ``search-every`` is the same with
``search_interval_ms: 0`` (a full search on every frame, the recall reference).  The
other names time ``detect()`` alone.  Numbers depend on the machine and its load: run it on
an idle machine (it uses one interpreter thread by default).
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

import numpy as np

from fer_ros import sample_clip
from fer_ros.face_detection import make_detector
from fer_ros.face_tracking.search import make_face_search

# name -> face_detector parameter values of a fer_ros.face_tracking.search.FaceSearch
SEARCHES = {
    "search": {},
    "search-every": {"search_interval_ms": 0.0},
}
# name -> (make_detector name, kwargs)
CONFIGS = {
    "blazeface": ("blazeface", {}),
    "blazeface-noverify": ("blazeface", {"verify": False}),
    "blazeface-320": ("blazeface", {"input_size": 320}),
    "blazeface-full_range": ("blazeface", {"model": "full_range", "verify": False}),
    "haar": ("haar", {}),
}


def load_clips(faces, max_frames: int):
    """{name: (frames, ground truth of frame i)}."""
    clips = {"sample clip (0-2 faces)": (list(sample_clip.read_frames(max_frames=max_frames)),
                                         sample_clip.ground_truth)}
    for n in faces:
        if n == 2:
            continue
        duration = max_frames / sample_clip.FPS
        try:
            tmp = pathlib.Path(tempfile.mkdtemp()) / f"faces{n}.mp4"
            sample_clip.make_clip(tmp, faces=n, duration_s=duration)
            clips[f"{n}-face grid"] = (list(sample_clip.read_frames(tmp, max_frames)),
                                       sample_clip.grid_scene(n, duration).truth)
        except RuntimeError as exc:  # scikit-image missing
            print(f"(no {n}-face clip: {exc})")
    clips["blank frame"] = ([np.zeros((480, 640, 3), np.uint8)] * min(max_frames, 60),
                            lambda i: [])
    return clips


def found(det, box) -> bool:
    """``det`` is the true face ``box``: centre within 30 % and width within 40 % of it."""
    x, y, w, h = box
    return (abs(det.x + det.w / 2 - (x + w / 2)) <= 0.3 * w
            and abs(det.y + det.h / 2 - (y + h / 2)) <= 0.3 * h
            and abs(det.w - w) <= 0.4 * w)


class _Detect:
    """A bare detector behind the FaceSearch-like call the loop makes."""

    def __init__(self, det):
        self.detector = det
        self.searches = 0

    def process(self, frame, t_s):
        self.searches += 1
        return self.detector.detect(frame)


def make_runner(key: str, threads: int):
    if key in SEARCHES:
        search = make_face_search(SEARCHES[key])
        if threads != 1:   # the node's detector uses one thread; rebuild for --threads
            search.replace_detector(
                make_detector("blazeface", num_threads=threads),
                None if search.every_frame else make_detector("blazeface", num_threads=threads))
        return search
    name, kw = CONFIGS[key]
    kw = dict(kw)
    if name == "blazeface":
        kw["num_threads"] = threads
    return _Detect(make_detector(name, **kw))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--detectors", nargs="+", default=["search", "search-every", "blazeface",
                                                        "blazeface-noverify",
                                                        "blazeface-full_range", "haar"],
                    choices=sorted(SEARCHES) + sorted(CONFIGS))
    ap.add_argument("--faces", type=int, nargs="*", default=[1, 5],
                    help="also time N-face grid clips")
    ap.add_argument("--frames", type=int, default=180, help="frames per clip")
    ap.add_argument("--repeat", type=int, default=1, help="passes over each clip")
    ap.add_argument("--threads", type=int, default=1, help="TFLite threads (BlazeFace)")
    ap.add_argument("--stamp-fps", type=float, default=30.0,
                    help="camera rate the frames are stamped at (the search schedule runs "
                         "on stamps)")
    args = ap.parse_args(argv)

    clips = load_clips(args.faces, args.frames)
    from benchlib.environment import machine_info
    from benchlib.report import cpu_text

    print(f"machine: {cpu_text({'machine': machine_info()})}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f} (Python {platform.python_version()})")
    print(f"{'detector':22s} {'clip':22s} {'median':>7s} {'p90':>7s} {'mean':>7s} {'cpu':>7s}  "
          f"{'faces/fr':>8s} {'recall':>7s} {'search/fr':>9s} {'192px/fr':>8s} {'128px/fr':>8s}")
    for key in args.detectors:
        for clip_name, (frames, truth) in clips.items():
            runner = make_runner(key, args.threads)   # fresh: the first frame is searched
            det = runner.detector
            det.detect(frames[0])  # warm-up
            v0, s0 = getattr(det, "verifications", 0), runner.searches
            r0 = getattr(det, "refinements", 0)
            times, faces, cpu, required, hits, n = [], 0, 0.0, 0, 0, 0
            for rep in range(args.repeat):
                t0 = 1000.0 * rep  # each pass starts a new stream (stamps jump: a search)
                for i, f in enumerate(frames):
                    c, t = time.process_time(), time.perf_counter()
                    out = runner.process(f, t0 + i / args.stamp_fps)
                    times.append((time.perf_counter() - t) * 1000)
                    cpu += time.process_time() - c
                    dets = getattr(out, "detections", out)
                    faces += len(dets)
                    for face in truth(i):
                        if face.required():
                            required += 1
                            hits += any(found(d, face.box) for d in dets)
            n = len(times)
            t = np.asarray(times)
            recall = f"{hits / required:7.3f}" if required else f"{'-':>7s}"
            passes = ""
            if hasattr(det, "verifications"):
                passes = (f"{(det.verifications - v0) / n:8.2f} "
                          f"{(det.refinements - r0) / n:8.2f}")
            print(f"{key:22s} {clip_name:22s} {np.median(t):7.1f} {np.percentile(t, 90):7.1f} "
                  f"{t.mean():7.1f} {cpu * 1000 / n:7.1f}  {faces / n:8.2f} {recall} "
                  f"{(runner.searches - s0) / n:9.2f} {passes:>17s}", flush=True)
    print("times in ms per 640x480 frame (median/p90/mean: wall clock; cpu: process CPU time "
          "per frame, all threads, less sensitive to other load)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
