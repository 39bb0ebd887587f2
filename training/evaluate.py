"""Evaluate a `.keras` or `.tflite` emotion model on a folder-layout dataset.

    python training/evaluate.py --data /path/to/images --model models/emotion_cnn.tflite
    python training/evaluate.py --data DIR --model M --split validation --tta --json out.json

DIR may hold `images/<split>/<class>/`, `<split>/<class>/`, or be a flat `<class>/` folder.
Prints accuracy, per-class precision/recall and the confusion matrix.
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from fer_ros.emotion_classifier import ModelLoadError, open_model, read_card
from training.data import load_dataset
from training.report import classification_metrics, confusion_matrix, format_metrics


def predict_scores(model, images: np.ndarray, tta: bool = False, batch_size: int = 256):
    """Scores (N, C) for uint8 images (N, 48, 48); `tta` averages with the mirrored image."""
    batches = []
    for start in range(0, len(images), batch_size):
        batch = images[start:start + batch_size, :, :, None].astype(np.float32)
        scores = model(batch)
        if tta:
            scores = 0.5 * (scores + model(np.ascontiguousarray(batch[:, :, ::-1])))
        batches.append(scores)
    return np.concatenate(batches) if batches else np.zeros((0, 0), np.float32)


def model_class_names(model_path: Path, fallback) -> list:
    """Class names in the model's output order: from its card, else the dataset's."""
    try:
        return read_card(model_path)["class_names"]
    except ModelLoadError:
        return list(fallback)


def evaluate(model_path, split, tta: bool = False, num_threads: int = 2) -> dict:
    """Metrics of the model at `model_path` on a loaded dataset split."""
    model = open_model(model_path, num_threads)
    names = model_class_names(Path(model_path), split.class_names)
    missing = set(split.class_names) - set(names)
    if missing:
        raise SystemExit(f"dataset classes {sorted(missing)} are unknown to the model {names}")
    scores = predict_scores(model, split.images, tta)
    # Map the model's output index to the dataset's label index.
    to_dataset = np.array([split.class_names.index(n) if n in split.class_names else -1
                           for n in names])
    predictions = to_dataset[scores.argmax(axis=1)]
    predictions[predictions < 0] = 0 if len(split.class_names) else 0
    matrix = confusion_matrix(split.labels, predictions, len(split.class_names))
    metrics = classification_metrics(matrix, split.class_names)
    metrics.update(model=str(model_path), tta=tta)
    return metrics


def pick_split(splits: dict, wanted):
    """The split named `wanted`, else validation, else the only one."""
    if wanted:
        if wanted not in splits:
            raise SystemExit(f"no split {wanted!r}; found {sorted(splits)}")
        return wanted
    if "validation" in splits:
        return "validation"
    if len(splits) == 1:
        return next(iter(splits))
    raise SystemExit(f"several splits {sorted(splits)}: choose one with --split")


def main(argv=None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True)
    parser.add_argument("--model", required=True, help=".keras or .tflite file")
    parser.add_argument("--split", help="train, validation, test (default: validation)")
    parser.add_argument("--tta", action="store_true", help="average with horizontal flip")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", help="also write the metrics as JSON here")
    args = parser.parse_args(argv)
    splits = load_dataset(args.data)
    name = pick_split(splits, args.split)
    split = splits[name]
    if split.skipped:
        print(f"skipped {split.skipped} unreadable files")
    try:
        metrics = evaluate(args.model, split, args.tta, args.threads)
    except ModelLoadError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    metrics["split"] = name
    print(f"{args.model} on {args.data} [{name}]" + (" with flip TTA" if args.tta else ""))
    print(format_metrics(metrics))
    if args.json:
        Path(args.json).write_text(json.dumps(metrics, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
