"""Start a narrower CNN from a trained one: keep each convolution's most used filters.

    python training/prune.py --model models/emotion_cnn.keras --architecture slim \\
        --data /data/fer --out runs/slim/init.keras

The target architecture (training/model.py ARCHITECTURES) must have the source's layers with
as many or fewer filters each.  A filter's use is measured on ``--images`` training faces:
its mean activation (after BatchNorm and ReLU) times the summed magnitude of the weights
the next layer gives it (the next convolution, or the first dense layer for the last one),
so a filter that fires weakly or that the next layer ignores goes first (filter pruning
after Li et al., "Pruning filters for efficient ConvNets", 2017, ranked by what the network
does with the filter rather than by its own weights, which BatchNorm rescales).  Every kept
filter keeps its weights and BatchNorm statistics, the next layer keeps the weights of the
kept inputs, the dense layers after the first are copied as they are.  The result is a
starting point, a few points below its source: train it (train.py --init-from, with the
source as --teacher) to win them back.
"""

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras
import numpy as np

from training.data import load_dataset
from training.evaluate import evaluate
from training.model import ARCHITECTURES, make_model


def conv_names(model) -> list[str]:
    """Names of the model's convolutions, input to output."""
    return [layer.name for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]


def filter_use(model, images: np.ndarray, batch_size: int = 256) -> dict[str, np.ndarray]:
    """{convolution: per-filter use}, mean activation times the next layer's weight on it."""
    names = conv_names(model)
    probe = keras.Model(model.input, [model.get_layer(f"{n}_relu").output for n in names])
    sums = [0.0] * len(names)
    for start in range(0, len(images), batch_size):
        batch = images[start:start + batch_size, ..., None].astype(np.float32)
        outputs = probe(batch, training=False)
        for i, out in enumerate(outputs):
            sums[i] = sums[i] + np.asarray(out, np.float64).sum(axis=(0, 1, 2))
    per_pixel = [s / (len(images) * int(np.prod(o.shape[1:3])))
                 for s, o in zip(sums, probe.outputs)]
    use = {}
    for i, name in enumerate(names):
        if i + 1 < len(names):
            weight = np.abs(model.get_layer(names[i + 1]).get_weights()[0]).sum(axis=(0, 1, 3))
        else:
            channels = len(per_pixel[i])
            dense = np.abs(model.get_layer("dense1").get_weights()[0])
            weight = dense.reshape(-1, channels, dense.shape[1]).sum(axis=(0, 2))
        use[name] = per_pixel[i] * weight
    return use


def prune(source, architecture: str, images: np.ndarray) -> keras.Model:
    """A compiled ``architecture`` model holding ``source``'s most used filters."""
    target = make_model(num_classes=source.output_shape[-1], architecture=architecture)
    names = conv_names(target)
    if names != conv_names(source):
        raise SystemExit(f"{architecture} has the convolutions {names}, the source "
                         f"{conv_names(source)}: pruning keeps the layers, only narrows them")
    use = filter_use(source, images)
    kept_inputs = np.arange(1)      # the grey channel
    for name in names:
        kernel = source.get_layer(name).get_weights()[0]
        want = target.get_layer(name).get_weights()[0].shape
        if want[:2] != kernel.shape[:2] or want[3] > kernel.shape[3]:
            raise SystemExit(f"{name}: {architecture} wants a {want} kernel, the source has "
                             f"{kernel.shape}: same kernel size and no more filters needed")
        kept = np.sort(np.argsort(-use[name], kind="stable")[:want[3]])
        target.get_layer(name).set_weights([kernel[:, :, kept_inputs][..., kept]])
        bn = source.get_layer(f"{name}_bn").get_weights()
        target.get_layer(f"{name}_bn").set_weights([w[kept] for w in bn])
        kept_inputs = kept
    # the flattened last block is (row, column, channel): keep the kept channels' rows
    dense = source.get_layer("dense1").get_weights()[0]
    channels = source.get_layer(names[-1]).get_weights()[0].shape[3]
    rows = (np.arange(dense.shape[0] // channels)[:, None] * channels + kept_inputs).ravel()
    target.get_layer("dense1").set_weights([dense[rows]])
    narrowed = {*names, *(f"{name}_bn" for name in names), "dense1"}
    for layer in target.layers:
        if layer.weights and layer.name not in narrowed:
            layer.set_weights(source.get_layer(layer.name).get_weights())
    return target


def main(argv=None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="trained .keras model to start from")
    parser.add_argument("--architecture", required=True, choices=sorted(ARCHITECTURES))
    parser.add_argument("--data", required=True, help="FER2013 dataset (training/data.py)")
    parser.add_argument("--out", required=True, help="the pruned .keras model")
    parser.add_argument("--images", type=int, default=2000,
                        help="training faces the filters' use is measured on")
    parser.add_argument("--seed", type=int, default=1337)
    args = parser.parse_args(argv)
    splits = load_dataset(args.data)
    train = splits["train"]
    pick = np.random.default_rng(args.seed).permutation(len(train))[:args.images]
    source = keras.saving.load_model(args.model, compile=False)
    pruned = prune(source, args.architecture, train.images[np.sort(pick)])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    pruned.save(args.out)
    validation = splits.get("validation")
    if validation is not None and len(validation):
        accuracy = evaluate(args.out, validation)["accuracy"]
        print(f"{args.out}: {pruned.count_params()} parameters (source "
              f"{source.count_params()}), validation accuracy before training {accuracy:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
