"""Train the emotion CNN on a FER2013 dataset; resumable, checkpointed every epoch.

    python training/train.py --data /path/to/face-expression --out runs/reference --epochs 35
    python training/train.py --out runs/reference --resume       # continue after a stop

Writes into --out: last.keras (every epoch, with optimizer state), best.keras (best validation
accuracy), history.csv, state.json, and at the end the reports (accuracy.png, loss.png,
confusion_matrix.png, report.json) of the best model on the validation split. With
--swa-start N it also keeps the running average of the weights of epochs N.. (swa_average.npz)
and at the end writes swa.keras, swa.json and swa/ (see training/swa.py).
"""

import argparse
import csv
import hashlib
import json
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras
import numpy as np

from training.data import Augmentation, CameraAugmentation, load_dataset
from training.model import ARCHITECTURES, DEFAULT_ARCHITECTURE, make_model
from training.provenance import git_commit
from training.swa import RunningAverage

HISTORY_FIELDS = ("epoch", "learning_rate", "loss", "accuracy", "val_loss", "val_accuracy",
                  "seconds")


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options; every default is the recipe of the shipped model."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="dataset folder (images/train, images/validation) or "
                        "fer2013.csv; stored in state.json for --resume")
    parser.add_argument("--out", required=True, help="run folder for checkpoints and reports")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out from last.keras with its stored options")
    parser.add_argument("--epochs", type=int, default=None,
                        help="number of epochs (default 35; on --resume, extends the run)")
    parser.add_argument("--architecture", choices=sorted(ARCHITECTURES),
                        default=DEFAULT_ARCHITECTURE,
                        help="training/model.py ARCHITECTURES (default: the reference CNN)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--lr-schedule", choices=("cosine", "plateau", "constant"),
                        default="cosine", help="cosine decay over --epochs, or halve the rate "
                        "after --plateau-patience epochs without a better validation loss")
    parser.add_argument("--plateau-patience", type=int, default=3)
    parser.add_argument("--early-stop-patience", type=int, default=10,
                        help="stop after this many epochs without better validation accuracy "
                        "(0 disables)")
    parser.add_argument("--conv-dropout", type=float, default=0.25)
    parser.add_argument("--dense-dropout", type=float, default=0.4)
    parser.add_argument("--label-smoothing", type=float, default=0.1)
    parser.add_argument("--l2", type=float, default=0.0)
    parser.add_argument("--augment", choices=("on", "off"), default="on")
    parser.add_argument("--camera-augment", choices=("on", "off"), default="off",
                        help="also tone, blur, noise, JPEG and small-face changes "
                        "(training/data.py CameraAugmentation)")
    parser.add_argument("--equalize", choices=("on", "off"), default="off",
                        help="equalise each face's histogram inside the model "
                        "(training/model.py make_model(equalize=True))")
    parser.add_argument("--class-weight", choices=("none", "balanced", "sqrt"), default="none")
    parser.add_argument("--logit-adjust", type=float, default=0.0, metavar="TAU",
                        help="train with logit-adjusted cross-entropy over the training "
                        "set's class prior (training/model.py); 1 = balanced, 0 = off")
    parser.add_argument("--precision", choices=("float32", "mixed_bfloat16"), default="float32",
                        help="mixed_bfloat16 is ~1.7x faster on CPUs with AMX/AVX512-BF16")
    parser.add_argument("--init-from", help="start from the weights of this .keras model of the "
                        "same architecture (e.g. models/emotion_cnn.keras) instead of random")
    parser.add_argument("--teacher", nargs="+", metavar="MODEL",
                        help="distil from this .keras model, or from the mean scores of "
                        "several: each target mixes the label with the teacher's scores for "
                        "the same augmented face (Hinton et al. 2015, temperature 1)")
    parser.add_argument("--teacher-weight", type=float, default=0.5,
                        help="the teacher's share of each target, 0..1 (with --teacher)")
    parser.add_argument("--swa-start", type=int, default=0,
                        help="average the weights of this epoch (1-based) and every later one "
                             "(stochastic weight averaging, training/swa.py); 0 = off")
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--limit", type=int, default=0,
                        help="use only the first N images of each split (smoke tests)")
    parser.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2),
                        help="1: progress bar, 2: one line per epoch (for log files)")
    return parser.parse_args(argv)


def random_stream(seed: int, init_from=None) -> list:
    """The key of every random number in a run: the seed, and a digest of --init-from's file.

    Without the digest, a stage started from an earlier stage's model with the same seed
    replays that stage's exact batch order, augmentations and dropout masks, which the network
    has memorised: its training accuracy jumps by several points while validation stays flat.
    """
    if not init_from:
        return [seed]
    digest = hashlib.sha256(Path(init_from).read_bytes()).digest()
    return [seed, int.from_bytes(digest[:4], "little")]


def process_seed(stream: list, start_epoch: int) -> int:
    """Seed for Keras' own random numbers (weight init, dropout) when a run starts or resumes.

    Keyed by the start epoch too, so a resumed run draws new dropout masks instead of
    repeating those of the run's first epochs.
    """
    return int(np.random.SeedSequence([*stream, start_epoch]).generate_state(1)[0])


class AugmentedBatches(keras.utils.PyDataset):
    """Shuffled, augmented training batches; epoch e of a stream always yields the same batches."""

    def __init__(self, images, labels, num_classes, batch_size, augmentation, stream,
                 start_epoch, sample_weights=None, camera=None, teacher=None,
                 teacher_weight=0.0):
        super().__init__(workers=1, use_multiprocessing=False)
        self.images, self.labels = images, labels
        self.num_classes, self.batch_size = num_classes, batch_size
        self.augmentation, self.stream = augmentation, list(stream)
        self.sample_weights, self.camera = sample_weights, camera
        self.teacher, self.teacher_weight = teacher, teacher_weight
        self.epoch = start_epoch
        self.order = self._order_for(start_epoch)

    def _order_for(self, epoch):
        return np.random.default_rng([*self.stream, epoch]).permutation(len(self.labels))

    def __len__(self):
        return math.ceil(len(self.labels) / self.batch_size)

    def __getitem__(self, index):
        picked = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        images = self.images[picked]
        if self.augmentation is not None:
            rng = np.random.default_rng([*self.stream, self.epoch, index])
            batch = self.augmentation.apply(images, rng)
            if self.camera is not None:
                batch = self.camera.apply(batch, rng)
        else:
            batch = images.astype(np.float32)
        targets = keras.utils.to_categorical(self.labels[picked], self.num_classes)
        if self.teacher is not None:
            # distillation: the teacher scores the same augmented faces the student sees
            soft = np.asarray(self.teacher(batch[..., None], training=False), np.float32)
            targets = (1.0 - self.teacher_weight) * targets + self.teacher_weight * soft
        if self.sample_weights is None:
            return batch[..., None], targets
        return batch[..., None], targets, self.sample_weights[self.labels[picked]]

    def on_epoch_end(self):
        self.epoch += 1
        self.order = self._order_for(self.epoch)


class TrainingControl(keras.callbacks.Callback):
    """Learning-rate schedule, early stopping, checkpoints and history, all resumable.

    Everything needed to continue after a stop is written each epoch: last.keras (weights and
    optimizer), state.json (epoch, best scores, patience counters, learning rate) and a row of
    history.csv.
    """

    def __init__(self, out_dir: Path, options: dict, state: dict):
        super().__init__()
        self.out_dir, self.options, self.state = out_dir, options, state
        self.epoch_started = 0.0
        self.swa = RunningAverage(out_dir / "swa_average.npz")

    def learning_rate_for(self, epoch: int) -> float:
        base = self.options["learning_rate"]
        if self.options["lr_schedule"] == "cosine":
            progress = min(epoch, self.options["epochs"]) / self.options["epochs"]
            return 1e-5 + (base - 1e-5) * 0.5 * (1.0 + math.cos(math.pi * progress))
        if self.options["lr_schedule"] == "plateau":
            return self.state.get("learning_rate", base)
        return base

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_started = time.time()
        self.model.optimizer.learning_rate.assign(self.learning_rate_for(epoch))

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        state = self.state
        learning_rate = float(self.model.optimizer.learning_rate.numpy())
        if logs["val_accuracy"] > state["best_val_accuracy"]:
            state.update(best_val_accuracy=float(logs["val_accuracy"]), best_epoch=epoch,
                         stop_wait=0)
            self.model.save(self.out_dir / "best.keras")
        else:
            state["stop_wait"] += 1
        if logs["val_loss"] < state["best_val_loss"]:
            state.update(best_val_loss=float(logs["val_loss"]), plateau_wait=0)
        else:
            state["plateau_wait"] += 1
            if (self.options["lr_schedule"] == "plateau"
                    and state["plateau_wait"] >= self.options["plateau_patience"]):
                state["learning_rate"] = max(learning_rate * 0.5, 1e-6)
                state["plateau_wait"] = 0
        patience = self.options["early_stop_patience"]
        if patience and state["stop_wait"] >= patience:
            self.model.stop_training = True
            state["stopped_early"] = True
        state["epoch"] = epoch
        if self.options.get("swa_start") and epoch + 1 >= self.options["swa_start"]:
            self.swa.add(self.model.get_weights(), epoch + 1)
        row = {"epoch": epoch + 1, "learning_rate": learning_rate,
               "seconds": round(time.time() - self.epoch_started, 1)}
        row.update({key: float(logs[key]) for key in HISTORY_FIELDS if key in logs})
        append_history(self.out_dir / "history.csv", row)
        self.model.save(self.out_dir / "last.keras.tmp.keras")
        os.replace(self.out_dir / "last.keras.tmp.keras", self.out_dir / "last.keras")
        write_json_atomic(self.out_dir / "state.json", {"options": self.options, **state})


def append_history(path: Path, row: dict) -> None:
    """Append one epoch's row to history.csv, writing the header on first use."""
    new_file = not path.exists()
    with open(path, "a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HISTORY_FIELDS)
        if new_file:
            writer.writeheader()
        writer.writerow(row)


def write_json_atomic(path: Path, payload: dict) -> None:
    """Write JSON via a temporary file so a stop mid-write never corrupts it."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=2))
    os.replace(tmp, path)


def class_weights(counts: np.ndarray, mode: str):
    """Per-class loss weights (mean 1) or None."""
    if mode == "none":
        return None
    weights = counts.sum() / (len(counts) * np.maximum(counts, 1))
    if mode == "sqrt":
        weights = np.sqrt(weights)
    return (weights / weights.mean()).astype(np.float32)


def load_options_and_state(args: argparse.Namespace, out_dir: Path):
    """Options from the command line, or from state.json when resuming."""
    state_path = out_dir / "state.json"
    if args.resume:
        if not state_path.exists() or not (out_dir / "last.keras").exists():
            raise SystemExit(f"--resume: no state.json/last.keras in {out_dir}")
        saved = json.loads(state_path.read_text())
        options = saved.pop("options")
        if args.data:
            options["data"] = args.data
        options["verbose"] = args.verbose
        if args.epochs:
            options["epochs"] = args.epochs
        return options, saved
    if not args.data:
        raise SystemExit("--data is required for a new run")
    if state_path.exists():
        raise SystemExit(f"{out_dir} already holds a run: use --resume or another --out")
    if not 0.0 <= args.teacher_weight <= 1.0:
        raise SystemExit(f"--teacher-weight {args.teacher_weight}: must be within 0..1")
    options = {key: value for key, value in vars(args).items() if key != "resume"}
    options["epochs"] = args.epochs or 35
    options["random_stream"] = random_stream(args.seed, args.init_from)
    state = {"epoch": -1, "best_val_accuracy": -1.0, "best_val_loss": float("inf"),
             "best_epoch": -1, "stop_wait": 0, "plateau_wait": 0,
             "learning_rate": args.learning_rate, "stopped_early": False}
    return options, state


def load_teacher(paths):
    """The --teacher: one .keras model, or a callable giving the mean scores of several
    (an ensemble's scores, distilled into one student).  ``paths``: a list, or one path as
    runs stored it before --teacher took several."""
    models = [keras.saving.load_model(p, compile=False)
              for p in ([paths] if isinstance(paths, str) else paths)]
    if len(models) == 1:
        return models[0]

    def mean_scores(x, training=False):
        return sum(np.asarray(m(x, training=training), np.float32) for m in models) / len(models)
    return mean_scores


def main(argv=None) -> int:
    """Train (or resume), then write the reports of the best checkpoint."""
    args = parse_args(argv)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    options, state = load_options_and_state(args, out_dir)
    # runs started before random_stream was stored used the seed alone
    stream = options.get("random_stream") or random_stream(options["seed"])
    start_epoch = state["epoch"] + 1
    keras.utils.set_random_seed(process_seed(stream, start_epoch))
    keras.mixed_precision.set_global_policy(options["precision"])

    splits = load_dataset(options["data"])
    if "train" not in splits or "validation" not in splits:
        raise SystemExit(f"{options['data']}: need train and validation splits, "
                         f"found {sorted(splits)}")
    train, validation = splits["train"], splits["validation"]
    if options["limit"]:
        for split in (train, validation):
            keep = np.random.default_rng(options["seed"]).permutation(len(split))
            keep = np.sort(keep[:options["limit"]])
            split.images, split.labels = split.images[keep], split.labels[keep]
    num_classes = len(train.class_names)
    print(f"train: {len(train)} images, validation: {len(validation)}, classes "
          f"{list(train.class_names)}, skipped files: {train.skipped + validation.skipped}")

    if args.resume:
        model = keras.saving.load_model(out_dir / "last.keras")
        print(f"resuming at epoch {start_epoch + 1} of {options['epochs']}")
    else:
        model = make_model(num_classes=num_classes,
                           architecture=options.get("architecture", DEFAULT_ARCHITECTURE),
                           conv_dropout=options["conv_dropout"],
                           dense_dropout=options["dense_dropout"],
                           learning_rate=options["learning_rate"],
                           label_smoothing=options["label_smoothing"], l2=options["l2"],
                           class_counts=train.class_counts(),
                           logit_adjustment=options.get("logit_adjust", 0.0),
                           equalize=options.get("equalize") == "on")
        if options.get("init_from"):
            model.set_weights(keras.saving.load_model(options["init_from"]).get_weights())
            print(f"initial weights from {options['init_from']}")
        (out_dir / "class_names.json").write_text(json.dumps(list(train.class_names)))

    done = state.get("stopped_early") or start_epoch >= options["epochs"]
    if not done:
        state.setdefault("code_commits", []).append(
            {"from_epoch": start_epoch + 1, "commit": git_commit()})
        augmentation = Augmentation() if options["augment"] == "on" else None
        batches = AugmentedBatches(
            train.images, train.labels, num_classes, options["batch_size"], augmentation,
            stream, start_epoch,
            class_weights(train.class_counts(), options["class_weight"]),
            CameraAugmentation() if options.get("camera_augment") == "on" else None,
            load_teacher(options["teacher"]) if options.get("teacher") else None,
            options.get("teacher_weight", 0.0))
        validation_data = (validation.images[..., None].astype(np.float32),
                           keras.utils.to_categorical(validation.labels, num_classes))
        model.fit(batches, validation_data=validation_data, epochs=options["epochs"],
                  initial_epoch=start_epoch, verbose=options["verbose"],
                  callbacks=[TrainingControl(out_dir, options, state)])

    from training.report import write_reports
    best = keras.saving.load_model(out_dir / "best.keras")
    summary = write_reports(out_dir, best, validation)
    print(f"best epoch {state['best_epoch'] + 1}: validation accuracy "
          f"{summary['accuracy']:.4f}; reports in {out_dir}")
    average = RunningAverage(out_dir / "swa_average.npz")
    if average.weights is not None:
        from training.swa import finish
        finish(out_dir, average.weights, average.epochs,
               {"train": train, "validation": validation}, best, options["seed"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
