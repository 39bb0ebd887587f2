"""Evaluate a `.keras` or `.tflite` emotion model on a folder-layout dataset.

    python training/evaluate.py --data /path/to/images --model models/emotion_cnn.tflite
    python training/evaluate.py --data DIR --model M --split validation --tta --json out.json
    python training/evaluate.py --data DIR --detector-path --crop all --json out.json
    python training/evaluate.py --photos /path/to/devphotos --json photos.json

DIR may hold `images/<split>/<class>/`, `<split>/<class>/`, or be a flat `<class>/` folder.
Prints accuracy, per-class precision/recall and the confusion matrix.

``--detector-path`` also measures what the running node sees: each face is rendered into a
camera-like frame (training/scenes.py, seeded per face), found by the face_detector node's
detector with its default parameters, cropped as the node may crop (``--crop``: a name of
fer_ros.face_crop.CROPS, or "all", the default) and classified.  A face the detector
misses counts as wrong; its count is reported per class (the "not_found" column).

``--photos DIR`` measures real photographs the way the running node sees them: DIR holds a
``manifest.json`` (``[[relative path, label], ...]``), or is a parent of several such sets
(each reported, then all together).  Each photo is read as the node's image source reads
it, searched by the face_detector node's detector, the largest face cropped with the node's
crop (fer_ros.face_crop.node_crop; ``--crop`` for another) and classified.  A photo without
a face counts as wrong (the "not_found" column) and is listed.
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from fer_ros.emotion_classifier import ModelLoadError, open_model, read_card
from fer_ros.face_crop import CROPS, NODE_CROP
from fer_ros.face_tracking.search import make_face_detector
from fer_ros.preprocessing import to_model_input
from fer_ros.sources.files import ImageFileSource
from training import scenes
from training.data import CLASS_NAMES, Split, load_dataset
from training.report import classification_metrics, confusion_matrix, format_metrics

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "emotion_cnn_int8.tflite"


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


NOT_FOUND = "not_found"


def _open_checked(model_path, split, num_threads):
    model = open_model(model_path, num_threads)
    names = model_class_names(Path(model_path), split.class_names)
    missing = set(split.class_names) - set(names)
    if missing:
        raise SystemExit(f"dataset classes {sorted(missing)} are unknown to the model {names}")
    # Map the model's output index to the dataset's label index.
    to_dataset = np.array([split.class_names.index(n) if n in split.class_names else 0
                           for n in names])
    return model, to_dataset


def evaluate(model_path, split, tta: bool = False, num_threads: int = 2) -> dict:
    """Metrics of the model at `model_path` on a loaded dataset split."""
    model, to_dataset = _open_checked(model_path, split, num_threads)
    predictions = to_dataset[predict_scores(model, split.images, tta).argmax(axis=1)]
    matrix = confusion_matrix(split.labels, predictions, len(split.class_names))
    metrics = classification_metrics(matrix, split.class_names)
    metrics.update(model=str(model_path), tta=tta)
    return metrics


def detector_path_crops(split, crops=tuple(CROPS), seed: int = 0, backgrounds=None,
                        detector=None) -> dict:
    """{crop name: list of 48x48 model inputs or None (face not found)}, one per image.

    Image ``index`` of the split is rendered into a frame drawn from
    ``default_rng([seed, index])`` (reproducible); the node's default detector looks for it.
    """
    backgrounds = scenes.default_backgrounds() if backgrounds is None else backgrounds
    detector = make_face_detector({}) if detector is None else detector
    out = {name: [] for name in crops}
    for index, face in enumerate(split.images):
        scene = scenes.render_scene(face, np.random.default_rng([seed, index]), backgrounds)
        det = scenes.find_face(scene, detector.detect(scene.frame))
        for name in crops:
            out[name].append(None if det is None
                             else to_model_input([CROPS[name](scene.frame, det)])[0])
    return out


def evaluate_detector_path(model_path, split, inputs: list, num_threads: int = 2,
                           tta: bool = False) -> dict:
    """Metrics over model inputs from ``detector_path_crops`` (None = not found = wrong):
    the confusion matrix gets a ``not_found`` column, recall counts misses as wrong; ``tta``
    averages each crop's scores with its mirror image's."""
    model, to_dataset = _open_checked(model_path, split, num_threads)
    found = np.array([x is not None for x in inputs], bool)
    predictions = np.full(len(inputs), len(split.class_names), np.int64)
    if found.any():
        batch = np.stack([x for x in inputs if x is not None])[:, :, :, 0]
        predictions[found] = to_dataset[predict_scores(model, batch, tta).argmax(axis=1)]
    names = list(split.class_names) + [NOT_FOUND]
    matrix = confusion_matrix(split.labels, predictions, len(names))
    metrics = classification_metrics(matrix, names)
    metrics["confusion_matrix"] = matrix[:-1].tolist()   # rows: true classes only
    correct = int(np.trace(matrix))
    metrics.update(model=str(model_path), tta=tta,
                   detection_rate=float(found.mean()) if len(found)
                   else 0.0, not_found=int((~found).sum()),
                   accuracy_found=correct / int(found.sum()) if found.any() else 0.0)
    return metrics


MANIFEST = "manifest.json"
ALL_SETS = "all"


def photo_sets(root) -> list:
    """[(name, folder)] of the photo sets at ``root``: itself when it holds a manifest.json,
    else its sub-folders that do (sorted)."""
    root = Path(root)
    if (root / MANIFEST).is_file():
        return [(root.name, root)]
    sets = [(d.name, d) for d in sorted(root.iterdir()) if (d / MANIFEST).is_file()]
    if not sets:
        raise SystemExit(f"--photos {root}: no {MANIFEST} there or in its sub-folders")
    return sets


def largest_face(detections):
    """The detection with the largest box, or None."""
    return max(detections, key=lambda d: d.w * d.h, default=None)


def photo_inputs(folder: Path, class_names, crops=(NODE_CROP,), detector=None):
    """(relative paths, labels, {crop name: [48x48 model input or None]}) of one photo set:
    each photo read as the node's image source reads it, the node's detector's largest
    face cropped; None where no face is found."""
    detector = make_face_detector({}) if detector is None else detector
    entries = json.loads((folder / MANIFEST).read_text())
    paths, labels, out = [], [], {name: [] for name in crops}
    for relpath, label in entries:
        if label not in class_names:
            raise SystemExit(f"{folder / MANIFEST}: label {label!r} of {relpath} is not one "
                             f"of the model's classes {list(class_names)}")
        frame = ImageFileSource(folder / relpath).read()
        det = largest_face(detector.detect(frame))
        for name in crops:
            out[name].append(None if det is None
                             else to_model_input([CROPS[name](frame, det)])[0])
        paths.append(relpath)
        labels.append(class_names.index(label))
    return paths, np.asarray(labels, np.int64), out


def load_photos(root, class_names, crops=(NODE_CROP,)) -> list:
    """[(set name, relative paths, labels, {crop: model inputs or None})] of every photo
    set at ``root``, and of all together (named ALL_SETS) when there are several."""
    detector = make_face_detector({})
    sets = [(name, *photo_inputs(folder, class_names, crops, detector))
            for name, folder in photo_sets(root)]
    if len(sets) > 1:
        sets.append((ALL_SETS, [f"{s[0]}/{path}" for s in sets for path in s[1]],
                     np.concatenate([s[2] for s in sets]),
                     {c: [x for s in sets for x in s[3][c]] for c in crops}))
    return sets


def evaluate_photos(model_path, root, crops=(NODE_CROP,), num_threads: int = 2,
                    photos=None, tta: bool = False) -> dict:
    """{set name or ALL_SETS: {crop name: metrics}} of the model on the photo sets at
    ``root`` (or on ``photos`` from load_photos): evaluate_detector_path's metrics plus the
    photos without a face found ("missed")."""
    class_names = tuple(model_class_names(Path(model_path), CLASS_NAMES))
    photos = load_photos(root, class_names, crops) if photos is None else photos
    results = {}
    for name, paths, labels, inputs in photos:
        split = Split(np.zeros((0, 48, 48), np.uint8), labels, class_names)
        results[name] = {}
        for crop_name in crops:
            metrics = evaluate_detector_path(model_path, split, inputs[crop_name], num_threads,
                                             tta)
            metrics.update(crop=crop_name, photo_set=name, missed=[
                path for path, x in zip(paths, inputs[crop_name]) if x is None])
            results[name][crop_name] = metrics
    return results


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
    parser.add_argument("--data", help="FER2013-layout dataset (see above)")
    parser.add_argument("--photos", help="photo set(s): a folder with manifest.json, or a "
                        "parent of several")
    parser.add_argument("--model", default=str(DEFAULT_MODEL),
                        help=".keras or .tflite file (default: the shipped int8 model)")
    parser.add_argument("--split", help="train, validation, test (default: validation)")
    parser.add_argument("--tta", action="store_true",
                        help="average each face's scores with its mirror image's (also on "
                        "the detector path and the photos)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", help="also write the metrics as JSON here")
    parser.add_argument("--detector-path", action="store_true",
                        help="also evaluate through the node's detector and crop")
    parser.add_argument("--crop", choices=(*CROPS, "all"),
                        help="the crop to evaluate (default: all with --detector-path, "
                        f"the node's ({NODE_CROP}) with --photos)")
    parser.add_argument("--seed", type=int, default=0, help="scene rendering seed")
    parser.add_argument("--limit", type=int, help="only N images, a seeded random subset")
    args = parser.parse_args(argv)
    if not args.data and not args.photos:
        parser.error("give --data, --photos or both")
    try:
        metrics = evaluate_fer(args) if args.data else {}
        if args.photos:
            metrics["photos"] = report_photos(args)
    except ModelLoadError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.json:
        Path(args.json).write_text(json.dumps(metrics, indent=2))
    return 0


def report_photos(args) -> dict:
    """The --photos part of main: every set and all together, printed."""
    chosen = tuple(CROPS) if args.crop == "all" else (args.crop or NODE_CROP,)
    results = evaluate_photos(args.model, args.photos, chosen, args.threads, tta=args.tta)
    for set_name, by_crop in results.items():
        for crop_name, result in by_crop.items():
            print(f"\n{args.model} on photos {set_name}, {crop_name} crop"
                  + (" with flip TTA" if args.tta else "") + ": "
                  f"{result['not_found']} photos without a face found (counted wrong)"
                  + (f": {', '.join(result['missed'])}" if result["missed"] else ""))
            print(format_metrics(result))
    return results


def evaluate_fer(args) -> dict:
    """The --data part of main: plain validation and, with --detector-path, the node's path."""
    splits = load_dataset(args.data)
    name = pick_split(splits, args.split)
    split = splits[name]
    if split.skipped:
        print(f"skipped {split.skipped} unreadable files")
    if args.limit and args.limit < len(split):
        pick = np.sort(np.random.default_rng(args.seed).choice(len(split), args.limit,
                                                               replace=False))
        split = type(split)(split.images[pick], split.labels[pick], split.class_names)
    metrics = evaluate(args.model, split, args.tta, args.threads)
    metrics["split"] = name
    print(f"{args.model} on {args.data} [{name}]" + (" with flip TTA" if args.tta else ""))
    print(format_metrics(metrics))
    if args.detector_path:
        chosen = tuple(CROPS) if args.crop in (None, "all") else (args.crop,)
        crops = detector_path_crops(split, chosen, args.seed)
        metrics["detector_path"] = {}
        for name in chosen:
            result = evaluate_detector_path(args.model, split, crops[name], args.threads,
                                            args.tta)
            result.update(crop=name, seed=args.seed)
            metrics["detector_path"][name] = result
            print(f"\ndetector path, {name} crop: detection rate "
                  f"{result['detection_rate']:.4f} ({result['not_found']} faces not found, "
                  f"counted wrong); accuracy on the faces found "
                  f"{result['accuracy_found']:.4f}")
            print(format_metrics(result))
    return metrics


if __name__ == "__main__":
    sys.exit(main())
