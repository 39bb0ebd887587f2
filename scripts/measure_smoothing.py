#!/usr/bin/env python3
"""Measure what temporal smoothing does to published emotion labels.

For per-face sequences of class scores it prints, for raw argmax, smoothing only, hysteresis
only and both, the published label changes per second (flicker, best measured on a face whose
expression does not change) and the delay added to a clean synthetic step between two
classes (the time from the first frame of the new expression to the label switch; raw: 0).

Score sequences come from one of:
  --clip [VIDEO]  detect, track and classify the faces of a video (default: the built-in
                  sample clip); --save-csv keeps the scores for later runs
  --csv FILE      a CSV with a header: ``stamp_s``, optional ``track_id``, then one column per
                  class (the format --save-csv writes)
  --synthetic     a seeded noisy face wavering between two close classes

Example: scripts/measure_smoothing.py --clip --time-constant 0.5 --switch-margin 0.1
"""

from __future__ import annotations

import argparse
import csv
import math
import pathlib
import sys
from collections import defaultdict

import numpy as np

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from fer_ros.face_tracking.tracker import FaceTracker
from fer_ros.smoothing import EmotionSmoother

# track id -> list of (stamp_s, scores)
Sequences = dict[object, list[tuple[float, np.ndarray]]]


def read_csv(path: pathlib.Path) -> tuple[list[str], Sequences]:
    """Class names and per-track score sequences from a CSV (see the module docstring)."""
    with open(path, newline="") as file:
        rows = list(csv.reader(file))
    if not rows or "stamp_s" not in rows[0]:
        raise SystemExit(f"{path}: the header must contain a stamp_s column")
    header = rows[0]
    stamp_column = header.index("stamp_s")
    track_column = header.index("track_id") if "track_id" in header else None
    class_columns = [i for i in range(len(header)) if i not in (stamp_column, track_column)]
    sequences: Sequences = defaultdict(list)
    for row in rows[1:]:
        track_id = row[track_column] if track_column is not None else 0
        scores = np.array([float(row[i]) for i in class_columns])
        sequences[track_id].append((float(row[stamp_column]), scores))
    return [header[i] for i in class_columns], dict(sequences)


def write_csv(path: pathlib.Path, class_names: list[str], sequences: Sequences) -> None:
    """Write per-track score sequences in the format read_csv reads."""
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["track_id", "stamp_s", *class_names])
        for track_id, sequence in sequences.items():
            for stamp, scores in sequence:
                writer.writerow([track_id, f"{stamp:.6f}", *(f"{s:.6f}" for s in scores)])


def classify_clip(args: argparse.Namespace) -> tuple[list[str], Sequences, float]:
    """Detect, track and classify the faces of a video; per confirmed track score sequences.

    Stamps are frame index / the video's frame rate. Returns class names, sequences and fps.
    """
    import cv2

    from fer_ros.emotion_classifier import load_classifier
    from fer_ros.face_crop import node_crop
    from fer_ros.face_detection import make_detector
    from fer_ros.preprocessing import to_model_input

    if args.clip == "":
        from fer_ros.sample_clip import sample_clip_path

        args.clip = str(sample_clip_path())
    classifier = load_classifier(args.model, num_threads=args.threads)
    detector = make_detector(args.detector)
    tracker = FaceTracker()
    capture = cv2.VideoCapture(args.clip)
    if not capture.isOpened():
        raise SystemExit(f"cannot open video {args.clip}")
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    sequences: Sequences = defaultdict(list)
    frame_index = 0
    while args.max_frames is None or frame_index < args.max_frames:
        ok, bgr = capture.read()
        if not ok:
            break
        detections = detector.detect(bgr)
        tracks = tracker.update([d.box for d in detections])
        if detections:
            scores = classifier.predict(to_model_input([node_crop(bgr, d) for d in detections]))
            for track, face_scores in zip(tracks, scores):
                if track.confirmed:
                    sequences[track.id].append((frame_index / fps, face_scores))
        frame_index += 1
    capture.release()
    print(f"clip {args.clip}: {frame_index} frames at {fps:.2f} fps")
    return list(classifier.class_names), dict(sequences), fps


def synthetic_sequence(seconds: float, fps: float, num_classes: int = 7) -> Sequences:
    """One face wavering between two close classes (0.45 vs 0.40) under noise, seeded."""
    rng = np.random.default_rng(0)
    sequence = []
    for frame in range(int(seconds * fps)):
        scores = np.full(num_classes, 0.15 / (num_classes - 2))
        scores[0], scores[1] = 0.45, 0.40
        sequence.append((frame / fps, np.clip(scores + rng.normal(0, 0.08, num_classes), 0, None)))
    return {0: sequence}


def median_frame_rate(sequences: Sequences) -> float | None:
    """Frame rate from the median stamp step within tracks (None if there is none)."""
    steps = [b[0] - a[0] for seq in sequences.values() for a, b in zip(seq, seq[1:])]
    step = float(np.median(steps)) if steps else 0.0
    return 1.0 / step if step > 0 else None


def label_changes_per_second(sequences: Sequences, smoother: EmotionSmoother) -> float:
    """Published label changes per second of face time, over all tracks."""
    changes, seconds = 0, 0.0
    for track_id, sequence in sequences.items():
        labels = [smoother.update(track_id, t, scores).label_index for t, scores in sequence]
        changes += sum(a != b for a, b in zip(labels, labels[1:]))
        seconds += sequence[-1][0] - sequence[0][0]
    return changes / seconds if seconds > 0 else math.nan


def step_delay_s(smoother: EmotionSmoother, num_classes: int, fps: float, peak: float) -> float:
    """Time from the first frame after a clean class-0 -> class-1 step to the label switch."""
    before = np.full(num_classes, (1.0 - peak) / (num_classes - 1))
    before[0] = peak
    after = np.roll(before, 1)
    step_frame = int(fps)  # 1 s of the old expression first
    horizon = step_frame + int((10 * smoother.time_constant_s + 1) * fps)
    for frame in range(horizon):
        scores = before if frame < step_frame else after
        if smoother.update("step", frame / fps, scores).label_index == 1:
            return (frame - step_frame) / fps
    return math.inf


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, gather score sequences and print the comparison table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--clip", nargs="?", const="", metavar="VIDEO")
    source.add_argument("--csv", type=pathlib.Path, metavar="FILE")
    source.add_argument("--synthetic", action="store_true")
    parser.add_argument("--time-constant", type=float, default=0.5, metavar="S")
    parser.add_argument("--switch-margin", type=float, default=0.1)
    parser.add_argument("--fps", type=float, default=None,
                        help="frame rate of the synthetic step (default: the source's, or 30)")
    parser.add_argument("--step-peak", type=float, default=0.8,
                        help="score of the dominant class before and after the step")
    parser.add_argument("--seconds", type=float, default=20.0, help="synthetic length")
    parser.add_argument("--model", default=str(REPO_ROOT / "models" / "emotion_cnn.tflite"))
    parser.add_argument("--detector", default="blazeface")
    parser.add_argument("--threads", type=int, default=1, help="classifier threads")
    parser.add_argument("--max-frames", type=int, default=None)
    parser.add_argument("--save-csv", type=pathlib.Path, metavar="FILE")
    args = parser.parse_args(argv)

    source_fps = None
    if args.clip is not None:
        class_names, sequences, source_fps = classify_clip(args)
    elif args.csv is not None:
        class_names, sequences = read_csv(args.csv)
        source_fps = median_frame_rate(sequences)
    else:
        source_fps = args.fps or 30.0
        sequences = synthetic_sequence(args.seconds, source_fps)
        class_names = [f"class{i}" for i in range(7)]
    if args.save_csv is not None:
        write_csv(args.save_csv, class_names, sequences)
    sequences = {k: v for k, v in sequences.items() if len(v) >= 2}
    if not sequences:
        raise SystemExit("no face track with at least two frames")
    fps = args.fps or source_fps or 30.0

    num_classes = len(class_names)
    tau, margin = args.time_constant, args.switch_margin
    face_seconds = sum(seq[-1][0] - seq[0][0] for seq in sequences.values())
    print(f"{len(sequences)} track(s), {face_seconds:.1f} s of face time, "
          f"{num_classes} classes; step at {fps:.1f} fps, peak {args.step_peak}")
    print(f"{'setting':<34}{'label changes/s':>16}{'added step delay (s)':>22}")
    for name, setting_tau, setting_margin in [
        ("raw argmax", 0.0, 0.0),
        (f"smoothing only (tau={tau:g} s)", tau, 0.0),
        (f"hysteresis only (margin={margin:g})", 0.0, margin),
        (f"smoothed (tau={tau:g} s, margin={margin:g})", tau, margin),
    ]:
        rate = label_changes_per_second(sequences, EmotionSmoother(num_classes, setting_tau,
                                                                   setting_margin))
        delay = step_delay_s(EmotionSmoother(num_classes, setting_tau, setting_margin),
                             num_classes, fps, args.step_peak)
        print(f"{name:<34}{rate:>16.3f}{delay:>22.3f}")
    contrast = args.step_peak - (1.0 - args.step_peak) / (num_classes - 1)
    if tau > 0 and margin < contrast:
        expected = tau * math.log(2.0 / (1.0 - margin / contrast))
        print(f"expected smoothed step delay: between {expected - 1.0 / fps:.3f} and "
              f"{expected:.3f} s (tau * ln(2 / (1 - margin / contrast)), less up to one frame)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
