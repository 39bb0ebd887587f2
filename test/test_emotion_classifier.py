"""fer_ros.emotion_classifier: Keras and LiteRT models with their cards, and bad model files."""

import json
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
keras = pytest.importorskip("keras", reason="Keras/TensorFlow not installed")

from fer_ros.emotion_classifier import ModelLoadError, card_path_for, load_classifier
from training.export import to_tflite

NAMES = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]


def small_model(num_classes=7):
    inputs = keras.Input((48, 48, 1))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(4, 3, strides=4)(x)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def write_card(model_path, names=NAMES):
    card_path_for(model_path).write_text(json.dumps({"class_names": names}))


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    model = small_model()
    keras_path = folder / "small.keras"
    model.save(keras_path)
    tflite_path = folder / "small.tflite"
    tflite_path.write_bytes(to_tflite(model, int8=False))
    for path in (keras_path, tflite_path):
        write_card(path)
    return keras_path, tflite_path


def test_keras_and_tflite_give_the_same_scores_and_card_names(model_files):
    keras_path, tflite_path = model_files
    batch = np.random.default_rng(0).uniform(0, 255, (5, 48, 48, 1)).astype(np.float32)
    from_keras = load_classifier(keras_path)
    from_tflite = load_classifier(tflite_path)
    assert from_keras.class_names == from_tflite.class_names == NAMES
    keras_scores = from_keras.predict(batch)
    tflite_scores = from_tflite.predict(batch)
    assert tflite_scores.shape == (5, 7)
    np.testing.assert_allclose(tflite_scores.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(keras_scores, tflite_scores, atol=1e-5)
    # batch size changes re-allocate the LiteRT input
    np.testing.assert_allclose(from_tflite.predict(batch[:1]), tflite_scores[:1], atol=1e-6)
    assert from_tflite.predict(batch[:0]).shape == (0, 7)


def test_missing_model_names_the_path(tmp_path):
    with pytest.raises(ModelLoadError, match="not found: .*absent.tflite"):
        load_classifier(tmp_path / "absent.tflite")


@pytest.mark.parametrize("suffix", [".tflite", ".keras"])
def test_corrupt_model_names_the_path(tmp_path, suffix):
    path = tmp_path / f"corrupt{suffix}"
    path.write_bytes(b"\x00garbage" * 100)
    write_card(path)
    with pytest.raises(ModelLoadError, match=f"corrupt\\{suffix}"):
        load_classifier(path)


def test_unsupported_model_type_is_refused(tmp_path):
    path = tmp_path / "model.h5"
    path.write_bytes(b"x")
    with pytest.raises(ModelLoadError, match="unsupported model type"):
        load_classifier(path)


def test_card_must_exist_and_match_the_output(model_files, tmp_path):
    _, tflite_path = model_files
    copy = tmp_path / "copy.tflite"
    copy.write_bytes(tflite_path.read_bytes())
    with pytest.raises(ModelLoadError, match="model card not found"):
        load_classifier(copy)
    write_card(copy, NAMES[:5])
    with pytest.raises(ModelLoadError, match="outputs .* but its card lists 5"):
        load_classifier(copy)
    card_path_for(copy).write_text("{not json")
    with pytest.raises(ModelLoadError, match="unreadable"):
        load_classifier(copy)


def test_card_input_shape_must_match_the_model(model_files, tmp_path):
    for source in model_files:
        copy = tmp_path / ("shape" + source.suffix)
        copy.write_bytes(source.read_bytes())
        card_path_for(copy).write_text(json.dumps({"class_names": NAMES,
                                                   "input": {"shape": [64, 64, 1]}}))
        with pytest.raises(ModelLoadError, match=r"takes input of shape \[48, 48, 1\] but its "
                           r"card .* says input.shape \[64, 64, 1\]"):
            load_classifier(copy)
        card_path_for(copy).write_text(json.dumps({"class_names": NAMES,
                                                   "input": {"shape": [48, 48, 1]}}))
        assert load_classifier(copy).input_shape == (48, 48, 1)


def test_keras_models_load_in_safe_mode(tmp_path):
    """A .keras file holding a Lambda layer (arbitrary Python code) is refused."""
    inputs = keras.Input((48, 48, 1))
    x = keras.layers.Lambda(lambda t: t * 2.0)(inputs)
    x = keras.layers.Flatten()(x)
    model = keras.Model(inputs, keras.layers.Dense(7, activation="softmax")(x))
    path = tmp_path / "lambda.keras"
    model.save(path)
    write_card(path)
    with pytest.raises(ModelLoadError, match="lambda.keras"):
        load_classifier(path)


def test_large_tflite_batches_run_in_chunks_with_the_same_scores(model_files):
    from fer_ros.emotion_classifier import MAX_BATCH

    _, tflite_path = model_files
    classifier = load_classifier(tflite_path)
    batch = np.random.default_rng(1).uniform(0, 255, (2 * MAX_BATCH + 3, 48, 48, 1))
    batch = batch.astype(np.float32)
    single = np.concatenate([classifier.predict(batch[i:i + 1]) for i in range(len(batch))])
    np.testing.assert_allclose(classifier.predict(batch), single, atol=1e-5)
    assert classifier.runner.batch_size <= MAX_BATCH
