#!/usr/bin/env python3
"""Decode cost per frame of sensor_msgs/CompressedImage payloads (what face_detector and
annotator pay with ``image_transport: compressed``): JPEG and PNG of real 640x480 frames of
the sample clip through ``fer_ros.image_encoding.compressed_to_bgr``, next to the raw bgr8
path (``image_to_bgr`` with copy) for comparison.

    python scripts/bench_decode.py [--frames 20] [--repeat 10] [--quality 80]
"""

from __future__ import annotations

import argparse
import statistics
import time

import cv2

from fer_ros.image_encoding import compressed_to_bgr, encode_jpeg, image_to_bgr
from fer_ros.sample_clip import read_frames


def per_call_ms(func, payloads, repeat):
    times = []
    for _ in range(repeat):
        for p in payloads:
            t0 = time.perf_counter()
            func(p)
            times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--quality", type=int, default=80, help="JPEG quality (the camera's "
                    "and annotator's default jpeg_quality is 80)")
    args = ap.parse_args()
    cv2.setNumThreads(1)              # what one node callback gets on a loaded robot
    frames = [cv2.resize(f, (640, 480)) for f in read_frames(max_frames=args.frames)]
    cases = {
        f"jpeg q{args.quality}": [encode_jpeg(f, args.quality) for f in frames],
        "png": [cv2.imencode(".png", f)[1].tobytes() for f in frames],
    }
    print(f"{len(frames)} frames 640x480 x {args.repeat}, OpenCV {cv2.__version__}, "
          "1 thread")
    print(f"{'payload':<10} {'size KiB':>9} {'median ms':>10} {'p95 ms':>8}")
    for name, payloads in cases.items():
        fmt = "bgr8; " + name.split()[0] + " compressed bgr8"
        med, p95 = per_call_ms(lambda p: compressed_to_bgr(fmt, p), payloads, args.repeat)
        size = statistics.mean(len(p) for p in payloads) / 1024
        print(f"{name:<10} {size:>9.1f} {med:>10.2f} {p95:>8.2f}")
    raw = [f.tobytes() for f in frames]
    med, p95 = per_call_ms(lambda p: image_to_bgr("bgr8", 480, 640, 1920, p, copy=True), raw,
                           args.repeat)
    print(f"{'raw bgr8':<10} {900.0:>9.1f} {med:>10.2f} {p95:>8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
