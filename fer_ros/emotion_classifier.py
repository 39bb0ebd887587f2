"""Emotion CNN inference from a `.keras` (Keras) or `.tflite` (LiteRT) file. ROS-free.

The class list comes from the model card, a JSON file beside the model named
`<model file>.json` (e.g. `emotion_cnn.tflite.json`), never from code. The model takes raw
grayscale pixels in [0, 255], shape (N, 48, 48, 1), float32, and returns softmax scores.
"""

import json
import os
from pathlib import Path

import numpy as np

from fer_ros.errors import StartupError


class ModelLoadError(StartupError):
    """A model or its card is missing, unreadable or inconsistent."""


def card_path_for(model_path) -> Path:
    """Path of the model card that belongs to `model_path`."""
    model_path = Path(model_path)
    return model_path.with_name(model_path.name + ".json")


def read_card(model_path) -> dict:
    """Read and check the model card beside `model_path`."""
    path = card_path_for(model_path)
    try:
        card = json.loads(path.read_text())
    except FileNotFoundError:
        raise ModelLoadError(
            f"model card not found: {path} (expected beside {model_path})") from None
    except (OSError, ValueError) as error:
        raise ModelLoadError(f"model card {path} is unreadable: {error}") from error
    names = card.get("class_names")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ModelLoadError(f"model card {path} has no list of class_names")
    return card


#: LiteRT keeps its tensor arena at the largest batch it was sized for (a 32-face batch of
#: the shipped model: +25 MB resident for good), so larger batches run in chunks of this many
MAX_BATCH = 8


class TFLiteRunner:
    """Runs a `.tflite` model with LiteRT, resizing the batch dimension as needed (at most
    MAX_BATCH)."""

    def __init__(self, path: Path, num_threads: int):
        from ai_edge_litert.interpreter import Interpreter

        try:
            self.interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
            self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as error:
            raise ModelLoadError(f"cannot load LiteRT model {path}: {error}") from error
        self.input_index = self.interpreter.get_input_details()[0]["index"]
        self.output_index = self.interpreter.get_output_details()[0]["index"]
        self.input_shape = tuple(self.interpreter.get_input_details()[0]["shape"][1:])
        self.batch_size = 1

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        if len(batch) > MAX_BATCH:
            return np.concatenate([self(batch[i:i + MAX_BATCH])
                                   for i in range(0, len(batch), MAX_BATCH)])
        if len(batch) != self.batch_size:
            self.interpreter.resize_tensor_input(self.input_index, (len(batch),) + self.input_shape)
            self.interpreter.allocate_tensors()
            self.batch_size = len(batch)
        self.interpreter.set_tensor(self.input_index, batch)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.output_index).copy()


class KerasRunner:
    """Runs a `.keras` model, loaded in Keras safe mode (no arbitrary code)."""

    def __init__(self, path: Path):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import keras

        import fer_ros.keras_layers  # noqa: F401  (registers the layers a model may carry)

        try:
            self.model = keras.saving.load_model(path, compile=False, safe_mode=True)
        except Exception as error:  # Keras raises many types for a bad archive
            raise ModelLoadError(f"cannot load Keras model {path}: {error}") from error
        self.input_shape = tuple(self.model.input_shape[1:])

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return np.asarray(self.model(batch, training=False), dtype=np.float32)


def open_model(path, num_threads: int = 2):
    """A callable batch (N,48,48,1) float32 -> scores (N,C) for a `.keras` or `.tflite` file."""
    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"model file not found: {path}")
    if path.suffix == ".tflite":
        return TFLiteRunner(path, num_threads)
    if path.suffix == ".keras":
        return KerasRunner(path)
    raise ModelLoadError(f"unsupported model type {path.suffix!r} for {path}: "
                         "expected .keras or .tflite")


class EmotionClassifier:
    """A model file plus its card: `predict` returns one score row per face."""

    def __init__(self, path, num_threads: int = 2):
        self.model_path = Path(path)
        self.runner = open_model(self.model_path, num_threads)
        self.card = read_card(self.model_path)
        self.class_names = list(self.card["class_names"])
        self.input_shape = tuple(int(d) for d in self.runner.input_shape)
        card_input = self.card.get("input")
        card_shape = card_input.get("shape") if isinstance(card_input, dict) else None
        if card_shape is not None and tuple(card_shape) != self.input_shape:
            raise ModelLoadError(
                f"{self.model_path} takes input of shape {list(self.input_shape)} but its card "
                f"{card_path_for(self.model_path)} says input.shape {list(card_shape)}: the "
                "card belongs to another model, or the model was exported wrongly")
        probe = self.runner(np.zeros((1,) + self.input_shape, dtype=np.float32))
        if probe.shape != (1, len(self.class_names)):
            raise ModelLoadError(
                f"{self.model_path} outputs {probe.shape[1:]} scores but its card lists "
                f"{len(self.class_names)} classes")

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """Scores (N, C) float32 for a batch (N, 48, 48, 1) of raw [0, 255] pixels."""
        if len(batch) == 0:
            return np.zeros((0, len(self.class_names)), dtype=np.float32)
        return self.runner(np.ascontiguousarray(batch, dtype=np.float32))


def load_classifier(path, num_threads: int = 2) -> EmotionClassifier:
    """Load a `.keras` or `.tflite` emotion model and its card; raises ModelLoadError."""
    return EmotionClassifier(path, num_threads)
