"""Stochastic weight averaging (SWA) for the emotion CNN.

Averages the weights of several epochs of one run and then recomputes the BatchNorm statistics
with a pass over the (unaugmented) training images, as in Izmailov et al. 2018, "Averaging
Weights Leads to Wider Optima and Better Generalization". The averaged network is the same
architecture (same layers, same parameter count), so it is exported and run like any other.

    python training/train.py ... --swa-start 21     # train.py keeps the running average
    python training/swa.py --checkpoints run/epochs/epoch_2*.keras run/epochs/epoch_3*.keras \\
        --data DIR --out run                        # or average saved checkpoints

Writes into --out: swa.keras (float32) and swa.json (which epochs, how many BN images, the
validation accuracy), and the swa/ reports (confusion matrix, per-class metrics).
"""

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

import training.model  # noqa: F401  (registers the custom loss for load_model)


class RunningAverage:
    """Running mean of a model's weights over epochs, kept in an .npz file (no pickles)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.weights = None
        self.epochs = []
        if self.path.exists():
            with np.load(self.path, allow_pickle=False) as data:
                self.epochs = [int(e) for e in data["epochs"]]
                self.weights = [data[f"w{i}"] for i in range(len(data.files) - 1)]

    def add(self, weights, epoch: int) -> None:
        """Fold one epoch's weights (a list of arrays) into the mean, then save. An epoch
        already in the mean (redone after a stop) is not counted twice."""
        if int(epoch) in self.epochs:
            return
        weights = [np.asarray(w, np.float32) for w in weights]
        if self.weights is None:
            self.weights = weights
        else:
            n = len(self.epochs)
            self.weights = [mean + (w - mean) / (n + 1) for mean, w in zip(self.weights, weights)]
        self.epochs.append(int(epoch))
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, epochs=np.asarray(self.epochs),
                 **{f"w{i}": w for i, w in enumerate(self.weights)})
        os.replace(tmp, self.path)


def average_checkpoints(paths) -> list:
    """The mean of the weights of several .keras checkpoints of one architecture."""
    import keras

    average = None
    for count, path in enumerate(paths, start=1):
        weights = [np.asarray(w, np.float32)
                   for w in keras.saving.load_model(path, safe_mode=True).get_weights()]
        if average is None:
            average = weights
        else:
            average = [mean + (w - mean) / count for mean, w in zip(average, weights)]
    if average is None:
        raise SystemExit("swa: no checkpoints given")
    return average


def recalibrate_batchnorm(model, images: np.ndarray, batch_size: int = 256,
                          seed: int = 0) -> int:
    """Recompute every BatchNorm layer's moving mean and variance on `images` (uint8,
    (N, 48, 48)): the average of the batch statistics over one pass. Returns the number of
    images used."""
    import keras

    norms = [layer for layer in model.layers
             if isinstance(layer, keras.layers.BatchNormalization)]
    for layer in norms:
        layer.moving_mean.assign(np.zeros(layer.moving_mean.shape, np.float32))
        layer.moving_variance.assign(np.ones(layer.moving_variance.shape, np.float32))
    order = np.random.default_rng(seed).permutation(len(images))
    momenta = [layer.momentum for layer in norms]
    try:
        for step, start in enumerate(range(0, len(order), batch_size)):
            # moving = moving * k/(k+1) + batch/(k+1): the running mean of the batch statistics
            for layer in norms:
                layer.momentum = step / (step + 1.0)
            batch = images[order[start:start + batch_size], :, :, None].astype(np.float32)
            model(batch, training=True)
    finally:
        for layer, momentum in zip(norms, momenta):
            layer.momentum = momentum
    return len(order)


def build_swa_model(weights, like, train_images: np.ndarray, seed: int = 0):
    """``like``'s network (a model of the run) in float32 with the averaged weights and
    recalibrated BatchNorm (sets the global Keras dtype policy to float32)."""
    import keras

    from training.export import float32_copy

    keras.mixed_precision.set_global_policy("float32")
    model = float32_copy(like)
    model.set_weights(weights)
    recalibrate_batchnorm(model, train_images, seed=seed)
    return model


def finish(out_dir: Path, weights, epochs, splits, like, seed: int = 0) -> dict:
    """Build, save and report the SWA model of a run (``like``: a model of the run, for its
    network): swa.keras, swa.json, swa/ reports."""
    from training.report import write_reports

    out_dir = Path(out_dir)
    train, validation = splits["train"], splits["validation"]
    model = build_swa_model(weights, like, train.images, seed)
    model.save(out_dir / "swa.keras")
    (out_dir / "swa").mkdir(exist_ok=True)
    metrics = write_reports(out_dir / "swa", model, validation)
    summary = {"epochs": [int(e) for e in epochs], "bn_recalibration_images": len(train),
               "validation_accuracy": metrics["accuracy"]}
    (out_dir / "swa.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"SWA of epochs {summary['epochs'][0]}..{summary['epochs'][-1]} "
          f"({len(epochs)} checkpoints): validation accuracy {metrics['accuracy']:.4f}")
    return summary


def main(argv=None) -> int:
    """Average saved checkpoints, or finish the running average of a run (--run)."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="dataset with train and validation")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", help="a train.py run with --swa-start (swa_average.npz)")
    source.add_argument("--checkpoints", nargs="+", help=".keras checkpoints to average; "
                        "named epoch_<N>.keras for the epoch numbers in swa.json")
    parser.add_argument("--out", help="output folder (default: --run, or the checkpoints' "
                        "parent's parent)")
    parser.add_argument("--seed", type=int, default=0, help="order of the BN pass")
    args = parser.parse_args(argv)

    import keras

    from training.data import load_dataset

    splits = load_dataset(args.data)
    if args.run:
        average = RunningAverage(Path(args.run) / "swa_average.npz")
        if average.weights is None:
            raise SystemExit(f"swa: {args.run} has no swa_average.npz (train with --swa-start)")
        weights, epochs, out = average.weights, average.epochs, Path(args.out or args.run)
        like = keras.saving.load_model(Path(args.run) / "last.keras")
    else:
        paths = sorted(Path(p) for p in args.checkpoints)
        weights = average_checkpoints(paths)
        epochs = [int(p.stem.rsplit("_", 1)[-1]) if p.stem.rsplit("_", 1)[-1].isdigit()
                  else i for i, p in enumerate(paths, start=1)]
        out = Path(args.out) if args.out else paths[0].parent.parent
        like = keras.saving.load_model(paths[0])
    out.mkdir(parents=True, exist_ok=True)
    finish(out, weights, epochs, splits, like, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
