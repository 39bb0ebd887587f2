"""Temporal smoothing of per-face emotion scores, with hysteresis on the published label.

Each track's scores are smoothed exponentially in time: for an observation ``dt`` seconds
(taken from the message stamps, never the wall clock) after the previous one,
``smoothed += alpha * (scores - smoothed)`` with ``alpha = 1 - exp(-dt / time_constant_s)``,
so the result does not depend on the frame rate. The published label only moves to the
smoothed argmax when that class leads the current label by at least ``switch_margin``.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import numpy as np

from fer_ros.numeric import is_int, is_real

__all__ = ["CLOCK_JUMP_BACK_S", "EmotionSmoother", "SmoothedEmotion"]

# A stamp this many seconds (or more) older than a track's previous one is taken as a clock
# jump (looping bag, restarted simulation) and restarts that track's smoothing. Smaller steps
# back are stale (out-of-order) observations and are ignored.
CLOCK_JUMP_BACK_S = 1.0


@dataclass(frozen=True, eq=False)
class SmoothedEmotion:
    """Smoothed class scores (float32, summing to 1) and the published label's index."""

    scores: np.ndarray
    label_index: int

    @property
    def confidence(self) -> float:
        """Smoothed score of the published label."""
        return float(self.scores[self.label_index])


class _TrackScores:
    """Smoothing state of one track."""

    def __init__(self, stamp_s: float, scores: np.ndarray) -> None:
        self.stamp_s = stamp_s
        self.scores = scores
        self.label_index = int(np.argmax(scores))


class EmotionSmoother:
    """Per-track exponential smoothing of class scores with a hysteresis label.

    ``time_constant_s == 0`` turns smoothing off (every observation's scores pass through,
    whatever its stamp); ``switch_margin == 0`` publishes the plain argmax.

    Stamps: the first observation of a track initialises it. A stamp equal to the previous one
    (duplicate) or older by less than ``CLOCK_JUMP_BACK_S`` (out of order) leaves the state
    unchanged and returns it; a stamp older by ``CLOCK_JUMP_BACK_S`` or more restarts the track
    from that observation.
    """

    def __init__(
        self, num_classes: int, time_constant_s: float = 0.5, switch_margin: float = 0.1
    ) -> None:
        """Validate the parameters (ValueError on a bad one) and start with no tracks."""
        if not is_int(num_classes) or num_classes < 2:
            raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
        if not is_real(time_constant_s) or not 0.0 <= time_constant_s < math.inf:
            raise ValueError(
                f"time_constant_s must be a finite number >= 0, got {time_constant_s!r}"
            )
        if not is_real(switch_margin) or not 0.0 <= switch_margin < 1.0:
            raise ValueError(f"switch_margin must be in [0, 1), got {switch_margin!r}")
        self.num_classes = int(num_classes)
        self.time_constant_s = float(time_constant_s)
        self.switch_margin = float(switch_margin)
        self._tracks: dict[Hashable, _TrackScores] = {}

    def update(self, track_id: Hashable, stamp_s: float, scores) -> SmoothedEmotion:
        """Add one observation (class scores of the face at time ``stamp_s``) to a track.

        ``scores`` are non-negative with a positive sum and are normalised to sum to 1.
        Raises ValueError for scores of the wrong length or values, or a non-finite stamp.
        """
        if not is_real(stamp_s) or not math.isfinite(stamp_s):
            raise ValueError(f"stamp_s must be a finite number, got {stamp_s!r}")
        stamp_s = float(stamp_s)
        scores = self._normalised(scores)
        track = self._tracks.get(track_id)
        if track is None or stamp_s <= track.stamp_s - CLOCK_JUMP_BACK_S:
            track = self._tracks[track_id] = _TrackScores(stamp_s, scores)
        elif self.time_constant_s == 0.0:
            track.stamp_s = max(track.stamp_s, stamp_s)
            track.scores = scores
            self._update_label(track)
        elif stamp_s > track.stamp_s:
            alpha = -math.expm1(-(stamp_s - track.stamp_s) / self.time_constant_s)
            track.scores = track.scores + alpha * (scores - track.scores)
            track.stamp_s = stamp_s
            self._update_label(track)
        published = (track.scores / track.scores.sum()).astype(np.float32)
        return SmoothedEmotion(scores=published, label_index=track.label_index)

    def forget(self, alive_ids: Iterable[Hashable]) -> None:
        """Drop the state of every track whose id is not in ``alive_ids``."""
        alive = set(alive_ids)
        self._tracks = {key: value for key, value in self._tracks.items() if key in alive}

    def _update_label(self, track: _TrackScores) -> None:
        """Switch the label to the smoothed argmax if it leads by at least the margin."""
        best = int(np.argmax(track.scores))
        lead = track.scores[best] - track.scores[track.label_index]
        if best != track.label_index and lead >= self.switch_margin:
            track.label_index = best

    def _normalised(self, scores) -> np.ndarray:
        """Scores as a float64 vector summing to 1 (ValueError if they cannot be)."""
        array = np.asarray(scores, dtype=float)
        if array.shape != (self.num_classes,):
            raise ValueError(
                f"scores must have shape ({self.num_classes},), got {np.shape(scores)}"
            )
        if not np.all(np.isfinite(array)) or np.any(array < 0) or array.sum() <= 0:
            raise ValueError(f"scores must be finite, >= 0 and not all 0, got {array}")
        return array / array.sum()
