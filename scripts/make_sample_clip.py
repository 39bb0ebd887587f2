#!/usr/bin/env python3
"""Render the built-in sample clip (fer_ros/data/sample_clip.mp4) or a benchmark variant.

    python scripts/make_sample_clip.py                    # regenerate the shipped clip
    python scripts/make_sample_clip.py --faces 5 -o /tmp/five_faces.mp4

Deterministic: same scikit-image portrait, same camera path, same output (up to the video
encoder).  Needs scikit-image (skimage.data.astronaut(): NASA, public domain).  See
fer_ros/sample_clip.py for the scene and fer_ros/data/README.md for the source and license.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from fer_ros import sample_clip


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", type=pathlib.Path, default=None,
                    help="output file (default: fer_ros/data/sample_clip.mp4 for --faces 2, "
                         "required otherwise)")
    ap.add_argument("--faces", type=int, default=2,
                    help="2 = the shipped sample scene; any other N >= 1 = N faces in a grid")
    ap.add_argument("--fps", type=int, default=None, help=f"default {sample_clip.FPS}")
    ap.add_argument("--seconds", type=float, default=None,
                    help="duration (default: 12 for the sample scene, 10 for a grid)")
    ap.add_argument("--codec", default="mp4v", choices=["mp4v", "MJPG"],
                    help="mp4v -> small .mp4 (default); MJPG -> larger .avi")
    args = ap.parse_args(argv)
    out = args.output
    if out is None:
        if args.faces != 2 or args.fps or args.seconds or args.codec != "mp4v":
            ap.error("--output is required for a variant (the shipped clip is only replaced "
                     "by the default settings)")
        out = REPO / "fer_ros" / "data" / sample_clip.SAMPLE_CLIP_NAME
    if args.faces < 1:
        ap.error("--faces must be >= 1")
    path = sample_clip.make_clip(out, faces=args.faces, fps=args.fps, codec=args.codec,
                                 duration_s=args.seconds)
    n = sum(1 for _ in sample_clip.read_frames(path))
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB, {n} frames readable)")
    return 0 if n > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
