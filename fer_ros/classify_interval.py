"""Which faces of a frame the emotion CNN looks at again.  ROS-free.

A tracked face's latest scores are reused until they are ``interval_s`` old (header stamps),
then the face is classified again; an untracked face (id 0) is classified on every frame, a
new track on its first.  Expressions change over hundreds of milliseconds and the emotion
node smooths with a 0.5 s time constant, so classifying a tracked face at 15 Hz instead of
30 changes little of what it publishes, while the CNN is the largest per-frame cost on an
AVX2-only CPU (docs/BENCH.md).  Reused scores are held: the smoother takes them as the
face's scores on that frame (sample and hold).  What it trades: a change of expression
reaches the scores at most ceil(interval / frame period) - 1 frames late (50 ms on a 30 fps
camera: one frame, 33 ms).  ``interval_s`` 0 classifies every face on every frame.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import numpy as np

__all__ = ["LatestScores"]

# Stamps are whole nanoseconds turned into float seconds: a classification due exactly on
# time must not slip to the next frame through rounding.
_SLACK_S = 1e-6


class LatestScores:
    """Per track id, the latest CNN scores and the stamp of the frame they came from."""

    def __init__(self, interval_s: float = 0.0) -> None:
        self.interval_s = interval_s
        self._latest: dict[int, tuple[float, np.ndarray]] = {}

    @property
    def interval_s(self) -> float:
        return self._interval_s

    @interval_s.setter
    def interval_s(self, seconds: float) -> None:
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"interval_s must be a finite number >= 0, got {seconds!r}")
        self._interval_s = float(seconds)

    def due(self, track_ids: Sequence[int], stamp_s: float) -> list[int]:
        """Indices of the faces (by track id) to classify on the frame stamped ``stamp_s``:
        untracked, new, or whose latest scores are ``interval_s`` old (a stamp behind the
        latest one, a clock gone back, counts as old)."""
        due = []
        for i, track_id in enumerate(track_ids):
            latest = self._latest.get(track_id) if track_id != 0 else None
            age = stamp_s - latest[0] if latest is not None else math.inf
            if not 0 <= age < self._interval_s - _SLACK_S:
                due.append(i)
        return due

    def for_frame(self, track_ids: Sequence[int], stamp_s: float, crops: Sequence,
                  classify: Callable[[list], np.ndarray]) -> tuple[np.ndarray, int]:
        """The scores (N, C) of each face of the frame stamped ``stamp_s`` (``crops[i]`` is
        face i's): ``classify`` (crops -> scores) on the faces :meth:`due`, whose scores are
        kept, the latest ones for the others; and how many faces it classified."""
        if not track_ids:
            return np.empty((0, 0), np.float32), 0
        due = self.due(track_ids, stamp_s)
        fresh = dict(zip(due, classify([crops[i] for i in due]) if due else []))
        for i, face_scores in fresh.items():
            self.store(track_ids[i], stamp_s, face_scores)
        return np.stack([fresh[i] if i in fresh else self.scores(track_id)
                         for i, track_id in enumerate(track_ids)]), len(due)

    def store(self, track_id: int, stamp_s: float, scores: np.ndarray) -> None:
        """Remember a tracked face's fresh scores (untracked faces are not kept)."""
        if track_id != 0:
            self._latest[track_id] = (stamp_s, scores)

    def scores(self, track_id: int) -> np.ndarray:
        """The latest scores of a track that :meth:`due` did not name (KeyError otherwise)."""
        return self._latest[track_id][1]

    def forget(self, alive_ids: Iterable[int]) -> None:
        """Drop every track whose id is not in ``alive_ids``."""
        alive = set(alive_ids)
        self._latest = {key: value for key, value in self._latest.items() if key in alive}
