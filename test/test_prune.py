"""training/prune.py: a narrower CNN keeps the filters its source uses."""

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
keras = pytest.importorskip("keras", reason="Keras/TensorFlow not installed")

from training import prune, swa
from training.model import ARCHITECTURES, make_model


def silence(model, layer: str, channels: np.ndarray) -> None:
    """Make ``channels`` of ``layer`` output zero after ReLU, whatever the input, and shift
    the others up so that they fire (with BatchNorm statistics of the data)."""
    gamma, beta, mean, variance = model.get_layer(f"{layer}_bn").get_weights()
    beta[:] = 1.0
    gamma[channels], beta[channels] = 0.0, -1.0
    model.get_layer(f"{layer}_bn").set_weights([gamma, beta, mean, variance])


def test_pruning_away_silent_filters_keeps_the_function():
    """A source whose surplus filters are silent: the slim model made from it drops exactly
    those (the rest are used) and so computes the same scores, which only holds if every
    kept filter, its inputs and the first dense layer's rows were copied to the right place."""
    keras.utils.set_random_seed(3)
    source = make_model()
    rng = np.random.default_rng(0)
    silenced = {}
    for (name, (wide, _, _)), (narrow, _, _) in zip(
            [(f"conv{i}", block) for i, block in enumerate(ARCHITECTURES["reference"], 1)],
            ARCHITECTURES["slim"]):
        silenced[name] = np.sort(rng.choice(wide, wide - narrow, replace=False))
        silence(source, name, silenced[name])
    images = rng.integers(0, 256, (32, 48, 48), dtype=np.uint8)
    swa.recalibrate_batchnorm(source, images)

    use = prune.filter_use(source, images)
    for name, channels in silenced.items():
        assert np.all(use[name][channels] == 0)
        assert np.all(np.delete(use[name], channels) > 0)

    slim = prune.prune(source, "slim", images)
    assert slim.count_params() == make_model(architecture="slim").count_params()
    batch = images[..., None].astype(np.float32)
    np.testing.assert_allclose(slim.predict(batch, verbose=0),
                               source.predict(batch, verbose=0), atol=1e-5)


def test_pruning_into_a_different_layout_is_refused():
    source = make_model(architecture="compact")
    with pytest.raises(SystemExit, match="only narrows them"):
        prune.prune(source, "slim", np.zeros((2, 48, 48), np.uint8))
