"""Real-photo sets through the running graph: `fer_ros pipeline --source FOLDER`, one photo
per frame, scored on the emotion node's raw label of the largest face.

    python scripts/photos_through_graph.py --photos /data/devphotos [--fps 3] [--json out.json]

Each set (a folder with manifest.json, as for training/evaluate.py --photos; its photos in
one folder) is played once by the pipeline; the n-th EmotionArray (by stamp) belongs to the
n-th image file of that folder in name order, as the folder source plays them.  A photo
without a face counts wrong.  Use a --fps low enough that no frame is dropped: the script
fails when the number of messages and photos differ.  Set ROS_DOMAIN_ID to keep the graph
apart from others.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from training.evaluate import ALL_SETS, MANIFEST, photo_sets
from training.report import classification_metrics, confusion_matrix


def play_set(folder: Path, fps: float, model: str | None, timeout_s: float) -> list:
    """The EmotionArray messages of one run of the pipeline over ``folder``, by stamp."""
    import rclpy
    from fer_ros.msg import EmotionArray
    from rclpy.qos import QoSProfile, ReliabilityPolicy

    exe = shutil.which("fer_ros") or str(Path(sys.executable).parent / "fer_ros")
    cmd = [exe, "pipeline", "--source", str(folder), "--no-loop", "--exit-on-end",
           "--fps", str(fps), "--wait-for", "emotions=1"] + (["--model", model] if model else [])
    rclpy.init()
    node = rclpy.create_node("photos_through_graph")
    got = []
    node.create_subscription(EmotionArray, "emotions", got.append,
                             QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE))
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout_s
        while proc.poll() is None and time.monotonic() < deadline:
            rclpy.spin_once(node, timeout_sec=0.2)
        settle = time.monotonic() + 2.0          # the last messages still in flight
        while time.monotonic() < settle:
            rclpy.spin_once(node, timeout_sec=0.1)
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(10)
        node.destroy_node()
        rclpy.shutdown()
    return sorted(got, key=lambda m: (m.header.stamp.sec, m.header.stamp.nanosec))


def score_set(folder: Path, fps: float, model: str | None, timeout_s: float):
    """(labels, predicted labels or None) of one photo set, in manifest order."""
    entries = json.loads((folder / MANIFEST).read_text())
    images = {(folder / rel).resolve().parent for rel, _ in entries}
    if len(images) != 1:
        raise SystemExit(f"{folder}: the photos must lie in one folder, found {len(images)}")
    image_dir = images.pop()
    from fer_ros.sources.files import IMAGE_EXTENSIONS
    files = sorted(p.name for p in image_dir.iterdir()
                   if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    messages = play_set(image_dir, fps, model, timeout_s)
    if len(messages) != len(files):
        raise SystemExit(f"{folder}: {len(messages)} emotion messages for {len(files)} "
                         "photos (frames dropped or the run timed out): lower --fps")
    by_file = {}
    for name, msg in zip(files, messages):
        face = max(msg.faces, key=lambda e: e.box.width * e.box.height, default=None)
        by_file[name] = face.raw_label if face is not None else None
    return ([label for _, label in entries],
            [by_file[Path(rel).name] for rel, _ in entries], messages[0].class_names)


def metrics_of(labels, predicted, class_names) -> dict:
    """Accuracy, per-class figures and the confusion matrix (last column: no face)."""
    names = list(class_names)
    truth = np.array([names.index(label) for label in labels])
    guess = np.array([names.index(p) if p is not None else len(names) for p in predicted])
    matrix = confusion_matrix(truth, guess, len(names) + 1)
    metrics = classification_metrics(matrix, names + ["not_found"])
    metrics["confusion_matrix"] = matrix[:-1].tolist()
    metrics["not_found"] = int(sum(p is None for p in predicted))
    return metrics


def main(argv=None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", required=True, help="a photo set or a parent of several")
    parser.add_argument("--fps", type=float, default=3.0, help="photos per second")
    parser.add_argument("--model", help="emotion model (default: the pipeline's)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per set")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)
    results, pooled = {}, ([], [])
    for name, folder in photo_sets(args.photos):
        labels, predicted, class_names = score_set(folder, args.fps, args.model, args.timeout)
        results[name] = metrics_of(labels, predicted, class_names)
        pooled[0].extend(labels)
        pooled[1].extend(predicted)
        print(f"{name}: {results[name]['accuracy']:.4f} of {len(labels)} photos "
              f"({results[name]['not_found']} without a face)", flush=True)
    if len(results) > 1:
        results[ALL_SETS] = metrics_of(*pooled, class_names)
        print(f"{ALL_SETS}: {results[ALL_SETS]['accuracy']:.4f} of {len(pooled[0])} photos")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
