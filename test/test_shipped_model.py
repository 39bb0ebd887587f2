"""The models shipped in models/ (the default) and its folders (e.g. models/compact/): every
file has a card that matches it."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from fer_ros.emotion_classifier import card_path_for, load_classifier

MODELS = Path(__file__).resolve().parent.parent / "models"
CLASS_NAMES = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]
SHIPPED = sorted(p for p in MODELS.rglob("emotion_cnn*") if p.suffix in (".keras", ".tflite"))
SETS = sorted({p.parent for p in SHIPPED})


def test_the_default_models_are_shipped():
    names = {p.name for p in SHIPPED}
    assert {"emotion_cnn.keras", "emotion_cnn.tflite"} <= names
    for figure in ("accuracy.png", "loss.png", "confusion_matrix.png"):
        assert (MODELS / figure).stat().st_size > 10_000


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(MODELS)))
def test_card_matches_the_model_file(path):
    card = json.loads(card_path_for(path).read_text())
    assert card["class_names"] == CLASS_NAMES
    assert card["input"]["shape"] == [48, 48, 1]
    assert card["input"]["range"] == [0, 255]
    assert card["file"] == path.name
    assert card["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    validation = card["validation"]
    assert 0.0 < validation["accuracy"] <= 1.0
    assert sorted(validation["per_class"]) == CLASS_NAMES
    matrix = np.array(validation["confusion_matrix"])
    assert matrix.shape == (7, 7)
    assert matrix.sum() == validation["num_images"]
    assert np.trace(matrix) / matrix.sum() == pytest.approx(validation["accuracy"], abs=1e-4)

    classifier = load_classifier(path)
    assert tuple(classifier.input_shape) == (48, 48, 1)
    scores = classifier.predict(np.full((3, 48, 48, 1), 128.0, np.float32))
    assert scores.shape == (3, 7)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, rtol=1e-4)


def card_strings(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from card_strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from card_strings(value)
    elif isinstance(node, str):
        yield node


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(MODELS)))
def test_card_names_no_path_of_the_training_machine(path):
    card = json.loads(card_path_for(path).read_text())
    assert [s for s in card_strings(card) if s.startswith(("/", "~"))] == []


@pytest.mark.parametrize("path", [p for p in SHIPPED if p.suffix == ".tflite"],
                         ids=lambda p: str(p.relative_to(MODELS)))
def test_card_states_the_cost_a_face_and_the_cpu_that_measured_it(path):
    costs = json.loads(card_path_for(path).read_text())["cost_per_face"]
    assert costs
    for cost in costs:
        assert cost["file"] == path.name and cost["num_threads"] >= 1
        assert cost["back_to_back_ms"] > 0 and cost["paced_ms"] > 0
        assert cost["simd"] and all(name in cost["cpu"] for name in cost["simd"])
        assert cost["commit"] and cost["date"]


@pytest.mark.parametrize("folder", SETS, ids=lambda p: p.name)
def test_float_tflite_agrees_with_keras(folder):
    keras_model = load_classifier(folder / "emotion_cnn.keras")
    tflite_model = load_classifier(folder / "emotion_cnn.tflite")
    batch = np.random.default_rng(3).uniform(0, 255, (8, 48, 48, 1)).astype(np.float32)
    np.testing.assert_allclose(keras_model.predict(batch), tflite_model.predict(batch), atol=1e-4)
