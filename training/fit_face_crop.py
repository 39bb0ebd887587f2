"""Measure the canonical crop's framing (fer_ros.face_crop) on the TRAIN faces.

    python training/fit_face_crop.py --data /path/to/images [--faces 4000]

Each 48x48 training face is upscaled 4x and edge-replicated into a 384x384 frame, the node's
detector (fer_ros.face_tracking.search defaults) looks for it, and the detection nearest the frame
centre gives, in the face's own 48x48 coordinates, where the training crop lies relative
to the box and to the eyes.  Medians are printed (robust to FER2013's non-face images).
"""

import argparse
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from fer_ros.face_tracking.search import make_face_detector
from training.data import IMAGE_SIZE, load_dataset
from training.reframe import FRAME, UPSCALE, face_in_frame


def measure(detector, face48: np.ndarray):
    """(box dx, dy, scale, eye dx, dy, scale, eye angle deg) of one training face, or None."""
    dets = detector.detect(face_in_frame(face48))
    if not dets:
        return None
    centre = FRAME / 2
    det = min(dets, key=lambda d: math.hypot(d.x + d.w / 2 - centre, d.y + d.h / 2 - centre))
    # the training crop in frame pixels: centre (centre, centre), side 48 * UPSCALE
    side = IMAGE_SIZE * UPSCALE
    w, h = det.w, det.h
    unit = math.sqrt(w * h)
    box = ((centre - det.x - w / 2) / w, (centre - det.y - h / 2) / h, side / unit)
    (rx, ry), (lx, ly) = det.keypoints[0], det.keypoints[1]
    angle = math.atan2(ly - ry, lx - rx)
    ox, oy = centre - (rx + lx) / 2, centre - (ry + ly) / 2
    c, s = math.cos(angle), math.sin(angle)
    eye = ((c * ox + s * oy) / unit, (-s * ox + c * oy) / unit, side / unit)
    return box + eye + (math.degrees(angle), math.hypot(lx - rx, ly - ry) / unit)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True)
    parser.add_argument("--faces", type=int, default=4000, help="training faces sampled")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    train = load_dataset(args.data)["train"]
    rng = np.random.default_rng(args.seed)
    pick = rng.choice(len(train), size=min(args.faces, len(train)), replace=False)
    detector = make_face_detector({})
    rows = [m for m in (measure(detector, train.images[i]) for i in pick) if m is not None]
    rows = np.asarray(rows)
    print(f"found {len(rows)} of {len(pick)} training faces")
    names = ("box dx", "box dy", "box scale", "eye dx", "eye dy", "eye scale", "eye angle",
             "eye distance / box side")
    for name, col in zip(names, rows.T):
        q1, med, q3 = np.percentile(col, [25, 50, 75])
        print(f"{name:24s} median {med:+.4f}  IQR [{q1:+.4f}, {q3:+.4f}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
