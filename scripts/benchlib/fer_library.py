"""The PyPI ``fer`` library's loop on a bench clip: the baseline issue 19 compares the
bare loop with (a robot's CPU should run fer_ros at least 3x as fast).

Per frame ``FER().detect_emotions(bgr)`` with the library's defaults: OpenCV's Haar cascade
on the whole frame, then its mini-Xception on each face (its int8 LiteRT file, through
TensorFlow).  Paced and timed as ``bareloop.run`` times fer_ros, so the two rates compare.
``fer`` is not a dependency of the nodes: ``make setup`` installs it into the full venv from
requirements-baseline.txt.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchlib.bareloop import BareLoop, Frame, run_frames

SCHEDULE = "PyPI fer (Haar, every frame)"


def missing() -> str | None:
    """Why the baseline cannot run here (None: it can)."""
    try:
        from fer.fer import FER  # noqa: F401
    except Exception as error:  # noqa: BLE001 - ImportError, or its own imports failing
        return (f"the PyPI fer library does not import ({type(error).__name__}: {error}); "
                "pip install --no-deps -r requirements-baseline.txt")
    return None


def version() -> str:
    from importlib.metadata import version as installed

    return installed("fer")


def run(clip: Path, stamp_rate: float, max_frames: int | None = None) -> BareLoop:
    """The library's detect-and-classify on each frame of ``clip`` (its first
    ``max_frames``), paced and timed as ``bareloop.run``."""
    from fer.fer import FER

    detector = FER()

    def step(bgr: np.ndarray, t_s: float) -> Frame:
        faces = detector.detect_emotions(bgr)
        return Frame([tuple(int(v) for v in face["box"]) for face in faces],
                     [0] * len(faces), True)

    return run_frames(clip, step, stamp_rate, max_frames=max_frames)
