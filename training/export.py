"""Export a trained run to the files the package ships: `.keras`, `.tflite` and model cards.

    python training/export.py --run runs/reference --data /path/to/images --out models

Exports the run's swa.keras (stochastic weight averaging, training/swa.py) when it has one,
else its best.keras (--weights chooses).

Writes into --out: <name>.keras (float32, no optimizer state), <name>.tflite (float32), and
<name>_int8.tflite (dynamic-range int8) only if it loses less than --max-int8-drop points of
validation accuracy; each with a model card `<file>.json` (class names in output order, input
spec, training data and recipe, validation accuracy overall and per class, commit, date).
Beside them: training_history.csv and accuracy.png/loss.png over the run and the earlier runs
it was started from (--earlier-runs, oldest first), and the exported weights'
confusion_matrix.png.  ``--photos DIR`` adds the real-photo figures of each file
(training/evaluate.py --photos: the node's detector, crop and model on every set) to its
card, ``--cost`` what the file costs a face on this CPU (training/cost.py: back to back and
paced at 30 calls/s; one entry per CPU, code paths and thread count); ``--cards-only
MODEL...`` puts either into the cards of files exported before;
``--also NAME=DATA`` the validation figures of another dataset (e.g. the original FER2013
framing beside the re-framed faces the model was trained on).
"""

import argparse
import datetime
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from fer_ros.face_crop import NODE_CROP
from training.data import CLASS_NAMES, IMAGE_SIZE, load_dataset
from training.evaluate import evaluate, evaluate_photos, load_photos, model_class_names
from training.model import DEFAULT_ARCHITECTURE, describe  # registers the custom loss too
from training.provenance import git_commit

INPUT_SPEC = {"shape": [IMAGE_SIZE, IMAGE_SIZE, 1], "dtype": "float32", "range": [0, 255],
              "color": "grayscale", "layout": "NHWC, batch first",
              "preprocessing": "none outside the model (Rescaling is its first layer)"}


def float32_copy(model):
    """The same network with every layer computing in float32 (undoes mixed precision)."""
    import keras

    def strip_policies(node):
        if isinstance(node, dict):
            if node.get("class_name") == "DTypePolicy":
                return "float32"
            return {key: strip_policies(value) for key, value in node.items()}
        if isinstance(node, list):
            return [strip_policies(value) for value in node]
        return node

    clone = keras.Model.from_config(strip_policies(model.get_config()))
    clone.set_weights(model.get_weights())
    return clone


def to_tflite(model, int8: bool) -> bytes:
    """Convert a Keras model to a LiteRT flatbuffer (float32, or dynamic-range int8)."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if int8:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    return converter.convert()


def max_output_difference(first, second, images: np.ndarray) -> float:
    """Largest absolute difference between two runners' scores on the same images."""
    batch = images[..., None].astype(np.float32)
    return float(np.abs(first(batch) - second(batch)).max())


def summary(metrics: dict) -> dict:
    """Accuracy, count and per-class recall of a metrics dict (for the cards)."""
    out = {"accuracy": round(metrics["accuracy"], 4), "num_images": metrics["num_images"],
           "recall": {name: row["recall"] for name, row in metrics["per_class"].items()
                      if name != "not_found"}}
    if "not_found" in metrics:
        out["no_face_found"] = metrics["not_found"]
    return out


def photo_figures(model_paths, photos_root, class_names=None) -> dict:
    """{model path: {photo set: summary}} through the node's path (evaluate.py --photos,
    the node's crop), the photos searched once for all the models; ``class_names``: the
    models' (default: from the first one's card)."""
    names = class_names or model_class_names(model_paths[0], CLASS_NAMES)
    photos = load_photos(photos_root, tuple(names))
    out = {}
    for path in model_paths:
        out[path] = {name: {"node_crop": NODE_CROP, **summary(by_crop[NODE_CROP])}
                     for name, by_crop in evaluate_photos(path, photos_root,
                                                          photos=photos).items()}
        print(f"{Path(path).name}: photos " + ", ".join(
            f"{name} {figures['accuracy']:.4f}" for name, figures in out[path].items()))
    return out


def add_photo_figures(model_paths, photos_root) -> None:
    """Put the photo figures into the existing cards of ``model_paths`` (--cards-only)."""
    for path, figures in photo_figures(model_paths, photos_root).items():
        update_card(path, lambda card, figures=figures: {"photos": figures})


def update_card(model_path, fields) -> None:
    """Rewrite the existing card of ``model_path`` with the fields ``fields(card)`` gives."""
    card_file = Path(str(model_path) + ".json")
    card = json.loads(card_file.read_text())
    card.update(fields(card))
    card_file.write_text(json.dumps(card, indent=2) + "\n")


def with_cost(costs: list, entry: dict) -> list:
    """``costs`` (a card's ``cost_per_face``) with ``entry`` in place of the one measured on
    the same CPU, code paths and thread count."""
    def same(c):
        return (c.get("cpu"), c.get("num_threads")) == (entry["cpu"], entry["num_threads"])
    return [c for c in costs if not same(c)] + [entry]


def add_cost(model_paths) -> None:
    """Put each file's cost a face on this CPU into its existing card (--cards-only)."""
    from training.cost import cost_per_face

    for path in model_paths:
        entry = cost_per_face(path)
        update_card(path, lambda card, entry=entry: {
            "cost_per_face": with_cost(card.get("cost_per_face", []), entry)})
        print(f"{Path(path).name}: {entry['back_to_back_ms']:.2f} ms a face back to back, "
              f"{entry['paced_ms']:.2f} paced ({entry['cpu']})")


def file_names(paths):
    """The file name of a path, or of each of a list of paths."""
    return Path(paths).name if isinstance(paths, str) else [Path(p).name for p in paths]


def data_description(path) -> str:
    """What the card says about the training data at ``path``."""
    if Path(path).suffix.lower() == ".npz":
        return ("FER2013 faces re-framed as the node frames a detected face "
                "(training/reframe.py): train for training, validation for model selection "
                "and these numbers")
    return ("face expression recognition folders (FER2013 faces): images/train for "
            "training, images/validation for model selection and these numbers")


def write_card(model_path: Path, card: dict, metrics: dict, tta_metrics: dict,
               extra: dict) -> None:
    """Write `<model file>.json` with the shared card fields and this file's own numbers
    (``extra``: more figures of this file, e.g. on photos)."""
    data = model_path.read_bytes()
    own = dict(card)
    own.update(
        file=model_path.name,
        format="keras" if model_path.suffix == ".keras" else "tflite",
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        validation={
            "accuracy": round(metrics["accuracy"], 4),
            "accuracy_with_flip_tta": round(tta_metrics["accuracy"], 4),
            "num_images": metrics["num_images"],
            "per_class": metrics["per_class"],
            "confusion_matrix": metrics["confusion_matrix"],
        },
        **extra,
    )
    Path(str(model_path) + ".json").write_text(json.dumps(own, indent=2) + "\n")


def main(argv=None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", help="training run folder (best.keras inside)")
    parser.add_argument("--data", help="dataset with a validation split")
    parser.add_argument("--cards-only", nargs="+", metavar="MODEL",
                        help="only put the --photos and --cost figures into these models' "
                             "cards")
    parser.add_argument("--out", default="models")
    parser.add_argument("--name", default="emotion_cnn")
    parser.add_argument("--lineage", help="JSON file describing the earlier training stages "
                        "this run started from (--init-from); copied into the cards")
    parser.add_argument("--earlier-runs", nargs="*", default=[],
                        help="run folders of the earlier stages, oldest first: their "
                             "history.csv joins the run's in training_history.csv and the plots")
    parser.add_argument("--weights", choices=("auto", "best", "swa"), default="auto",
                        help="best.keras, swa.keras, or auto: swa.keras when the run has it")
    parser.add_argument("--photos", help="real-photo sets for the cards (evaluate.py --photos)")
    parser.add_argument("--cost", action="store_true",
                        help="measure each file's cost a face on this CPU for its card")
    parser.add_argument("--also", action="append", default=[], metavar="NAME=DATA",
                        help="another dataset whose validation figures go into the cards")
    parser.add_argument("--max-int8-drop", type=float, default=0.5,
                        help="ship int8 only if it loses less than this many accuracy points")
    args = parser.parse_args(argv)
    if args.cards_only:
        if not args.photos and not args.cost:
            parser.error("--cards-only needs --photos or --cost")
        if args.photos:
            add_photo_figures([Path(p) for p in args.cards_only], args.photos)
        if args.cost:
            add_cost([Path(p) for p in args.cards_only])
        return 0
    if not args.run or not args.data:
        parser.error("--run and --data are required")
    import keras

    run, out = Path(args.run), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    state = json.loads((run / "state.json").read_text())
    options = state["options"]
    splits = load_dataset(args.data)
    validation = splits["validation"]
    train_counts = splits["train"].class_counts().tolist()

    weights = args.weights
    if weights == "auto":
        weights = "swa" if (run / "swa.keras").exists() else "best"
    model = float32_copy(keras.saving.load_model(run / f"{weights}.keras"))
    if weights == "swa":
        swa = json.loads((run / "swa.json").read_text())
        chosen = {"weights": f"stochastic weight averaging of epochs {swa['epochs'][0]}.."
                             f"{swa['epochs'][-1]} ({len(swa['epochs'])} epochs), BatchNorm "
                             f"statistics recomputed on {swa['bn_recalibration_images']} "
                             "unaugmented training images (training/swa.py)",
                  "swa_epochs": swa["epochs"]}
    else:
        chosen = {"weights": f"best epoch by validation accuracy ({state['best_epoch'] + 1})"}
    class_names = json.loads((run / "class_names.json").read_text())
    card = {
        "name": args.name,
        "architecture": describe(options.get("architecture", DEFAULT_ARCHITECTURE),
                                 equalize=options.get("equalize") == "on"),
        "parameters": int(model.count_params()),
        "class_names": class_names,
        "input": INPUT_SPEC,
        "output": f"softmax scores, shape (N, {len(class_names)}), in class_names order",
        "training": {
            "data": data_description(args.data),
            "train_images_per_class": dict(zip(class_names, train_counts)),
            # file names only: the run's folders are of the machine that trained it
            "recipe": {key: file_names(value) if key in ("init_from", "teacher") and value
                       else value
                       for key, value in options.items()
                       if key not in ("data", "out", "verbose", "limit")},
            "epochs_run": state["epoch"] + 1,
            # the code each part of the run was trained with (a start, then every --resume)
            "code_commits": state.get("code_commits", []),
            "best_epoch": state["best_epoch"] + 1,
            **chosen,
        },
        **({"earlier_stages": json.loads(Path(args.lineage).read_text())} if args.lineage
           else {}),
        "commit": git_commit(),  # the exporting code; training.code_commits trained it
        "date": datetime.date.today().isoformat(),
    }

    keras_path = out / f"{args.name}.keras"
    model.save(keras_path)
    float_path = out / f"{args.name}.tflite"
    float_path.write_bytes(to_tflite(model, int8=False))
    int8_path = out / f"{args.name}_int8.tflite"
    int8_path.write_bytes(to_tflite(model, int8=True))

    results = {path: (evaluate(path, validation), evaluate(path, validation, tta=True))
               for path in (keras_path, float_path, int8_path)}
    for path, (metrics, tta) in results.items():
        print(f"{path.name}: validation accuracy {metrics['accuracy']:.4f} "
              f"(flip TTA {tta['accuracy']:.4f})")

    from fer_ros.emotion_classifier import open_model
    card["keras_tflite_max_abs_difference"] = max_output_difference(
        open_model(keras_path), open_model(float_path), validation.images[:256])
    print(f"max |keras - tflite| on 256 validation images: "
          f"{card['keras_tflite_max_abs_difference']:.2e}")

    drop = 100 * (results[float_path][0]["accuracy"] - results[int8_path][0]["accuracy"])
    shipped = [keras_path, float_path]
    if drop < args.max_int8_drop:
        shipped.append(int8_path)
        print(f"int8 loses {drop:.2f} points: shipped")
    else:
        int8_path.unlink()
        print(f"int8 loses {drop:.2f} points (limit {args.max_int8_drop}): not shipped")
    extras = {path: {} for path in shipped}
    for name, data_path in (item.split("=", 1) for item in args.also):
        other = load_dataset(data_path)["validation"]
        for path in shipped:
            extras[path].setdefault("other_validation", {})[name] = summary(
                evaluate(path, other))
    if args.photos:
        for path, figures in photo_figures(shipped, args.photos, class_names).items():
            extras[path]["photos"] = figures
    if args.cost:
        from training.cost import cost_per_face

        for path in shipped:
            extras[path]["cost_per_face"] = [cost_per_face(path)]
    for path in shipped:
        write_card(path, card, *results[path], extras[path])
    from training.report import CONFUSION_FIGURE, combine_histories, plot_history, write_history
    history = combine_histories([Path(earlier) / "history.csv" for earlier in args.earlier_runs]
                                + [run / "history.csv"])
    write_history(history, out / "training_history.csv")
    plot_history(history, out)
    confusion = run / "swa" / CONFUSION_FIGURE if weights == "swa" else run / CONFUSION_FIGURE
    shutil.copy(confusion, out / CONFUSION_FIGURE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
