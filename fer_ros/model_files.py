"""Where the emotion model comes from: ``model_path`` -> a file -> a loaded classifier.
ROS-free (the emotion node and the bench scripts use it)."""

from __future__ import annotations

import os
from pathlib import Path

from fer_ros import share_dirs
from fer_ros.emotion_classifier import ModelLoadError, load_classifier

#: model_path "" = the first of these found in a share directory: the int8 model (shipped only
#: when it is within 0.5 points of float32 accuracy; several times faster, README "Accuracy"),
#: then float32.  models/compact/ holds a cheaper option (docs/TRAINING.md).
DEFAULT_MODELS = (Path("models") / "emotion_cnn_int8.tflite",
                  Path("models") / "emotion_cnn.tflite")
MODEL_ENV = "FER_ROS_MODEL"


def resolve_model_path(value: str = "") -> tuple[Path, list[Path]]:
    """Find the model file for ``model_path`` = ``value``.

    Returns (path, tried): ``path`` is the first existing candidate, or the first candidate
    when none exists (so the error names it); ``tried`` lists every candidate.
    Empty value: $FER_ROS_MODEL, then DEFAULT_MODELS in each share directory.
    """
    value = (value or "").strip() or os.environ.get(MODEL_ENV, "").strip()
    if value:
        path = Path(value).expanduser()
        if path.is_absolute():
            return path, [path]
        tried = [Path.cwd() / path] + [d / path for d in share_dirs()]
    else:
        tried = [d / model for d in share_dirs() for model in DEFAULT_MODELS]
    for cand in tried:
        if cand.is_file():
            return cand, tried
    return tried[0], tried


def load_model(value: str, num_threads: int = 2):
    """Resolve and load the classifier; ModelLoadError (naming the path) on any problem."""
    path, tried = resolve_model_path(value)
    if not path.is_file():
        where = "" if len(tried) == 1 else " (looked in: " + ", ".join(map(str, tried)) + ")"
        raise ModelLoadError(f"emotion model not found: {path}{where}")
    try:
        return load_classifier(path, num_threads=num_threads)
    except ModelLoadError:
        raise
    except Exception as exc:
        raise ModelLoadError(f"cannot load emotion model {path}: {type(exc).__name__}: "
                             f"{exc}") from exc
