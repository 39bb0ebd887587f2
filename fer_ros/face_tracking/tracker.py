"""Face tracking: give each detected face an id that follows it from frame to frame.

Detections are associated with tracks by box overlap (IoU) or by centre distance normalised by
face size, using an optimal (minimum-cost) assignment, so faces that are close together or cross
each other keep their own ids. Each track predicts its box with a constant-velocity model, which
keeps fast-moving faces and faces missed for a few frames associated.

Appearance: given a descriptor per detection (unit vectors, e.g. :mod:`.appearance`),
each track keeps a running average of its faces' descriptors, and a detection whose cosine
similarity to it is below ``min_similarity`` may not join it, wherever it is: another person
who appears where a tracked face was (after a cut, or stepping into its place) starts a new
track, so nothing keyed by the id (e.g. the emotion smoothing) passes from one person to the
other. Similarity also counts in the assignment's cost. A detection or track without a
descriptor (e.g. a face only partly in the frame) is associated by position alone.

A track is *confirmed* once it has been matched ``min_hits`` times and is dropped after
``max_misses`` consecutive frames without a match. Ids start at 1 and are never reused by a
tracker.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fer_ros.boxes import pairwise_iou, pairwise_normalised_centre_distance
from fer_ros.numeric import is_int, is_real

__all__ = ["FaceTracker", "Track", "min_cost_assignment"]

Box = tuple[float, float, float, float]

# Weight of the newest velocity measurement in a track's running velocity estimate.
_VELOCITY_BLEND = 0.5
# Weight of the newest descriptor in a track's running average: the average follows a slow
# change (expression, head turn, lighting) within a few frames, one odd frame moves it little.
_APPEARANCE_BLEND = 0.2
# Cost of (1 - similarity) in the assignment, next to (1 - IoU) + centre distance.
_APPEARANCE_COST = 0.5
# Cost of a track/detection pair that fails the association gate; larger than any allowed cost
# (at most 1 + max_center_distance + _APPEARANCE_COST * 2), so the assignment maximises the
# number of allowed pairs.
_GATED_OUT_COST = 1e6


@dataclass(frozen=True)
class Track:
    """Tracking result for one detection in one frame.

    ``id`` is >= 1, stable while the face stays in view and never reused; ``confirmed`` is true
    once the track has been matched ``min_hits`` times; ``hits`` counts the frames in which the
    track was matched (this one included); ``age`` counts the frames since the track was created
    (1 on creation).
    """

    id: int
    confirmed: bool
    hits: int
    age: int


class _TrackState:
    """Mutable per-track state kept between frames."""

    def __init__(self, track_id: int, box: np.ndarray, appearance: np.ndarray | None) -> None:
        self.id = track_id
        self.appearance = appearance
        self.center = box[:2] + box[2:] / 2.0
        self.size = box[2:].copy()
        self.velocity = np.zeros(2)
        self.hits = 1
        self.misses = 0
        self.age = 1
        self.confirmed = False

    def predicted_box(self) -> np.ndarray:
        """Box (x, y, w, h) expected in the coming frame under constant velocity."""
        center = self.center + self.velocity * (self.misses + 1)
        return np.concatenate([center - self.size / 2.0, self.size])

    def match(self, box: np.ndarray, appearance: np.ndarray | None) -> None:
        """Move the track to a matched detection box, update its velocity estimate and its
        appearance's running average."""
        if appearance is not None:
            if self.appearance is None:
                self.appearance = appearance
            else:
                blended = self.appearance + _APPEARANCE_BLEND * (appearance - self.appearance)
                self.appearance = blended / max(float(np.linalg.norm(blended)), 1e-12)
        center = box[:2] + box[2:] / 2.0
        measured_velocity = (center - self.center) / (self.misses + 1)
        if self.hits == 1:
            self.velocity = measured_velocity
        else:
            self.velocity += _VELOCITY_BLEND * (measured_velocity - self.velocity)
        self.center = center
        self.size = box[2:].copy()
        self.hits += 1
        self.misses = 0

    def snapshot(self) -> Track:
        """Immutable view of the track for callers."""
        return Track(id=self.id, confirmed=self.confirmed, hits=self.hits, age=self.age)


class FaceTracker:
    """Assigns persistent ids to face boxes over a sequence of frames (one ``update`` per frame).

    A detection may join a track when the IoU of the detection and the track's predicted box is
    at least ``iou_threshold`` or their centre distance, divided by the mean face size
    (sqrt(w*h)), is at most ``max_center_distance``, and (when both have a descriptor) the
    cosine similarity of its descriptor to the track's average is at least ``min_similarity``
    (-1: appearance is not used at all).
    """

    def __init__(
        self,
        iou_threshold: float = 0.3,
        max_center_distance: float = 0.5,
        min_hits: int = 3,
        max_misses: int = 5,
        min_similarity: float = 0.5,
    ) -> None:
        """Validate the parameters (ValueError on a bad one) and start with no tracks."""
        if not is_real(iou_threshold) or not 0.0 < iou_threshold <= 1.0:
            raise ValueError(f"iou_threshold must be in (0, 1], got {iou_threshold!r}")
        if not is_real(max_center_distance) or not 0.0 <= max_center_distance < math.inf:
            raise ValueError(
                f"max_center_distance must be a finite number >= 0, got {max_center_distance!r}"
            )
        if not is_int(min_hits) or min_hits < 1:
            raise ValueError(f"min_hits must be an integer >= 1, got {min_hits!r}")
        if not is_int(max_misses) or max_misses < 1:
            raise ValueError(f"max_misses must be an integer >= 1, got {max_misses!r}")
        if not is_real(min_similarity) or not -1.0 <= min_similarity <= 1.0:
            raise ValueError(f"min_similarity must be in [-1, 1], got {min_similarity!r}")
        self.iou_threshold = float(iou_threshold)
        self.max_center_distance = float(max_center_distance)
        self.min_hits = int(min_hits)
        self.max_misses = int(max_misses)
        self.min_similarity = float(min_similarity)
        self._tracks: list[_TrackState] = []
        self._next_id = 1

    def update(self, boxes: Sequence[Sequence[float]],
               appearances: Sequence[np.ndarray | None] | None = None) -> list[Track]:
        """Process one frame's detections (x, y, w, h) and return one Track per box, in order.

        ``appearances``: optional descriptor per box (unit-length vectors of one length, None
        for a box without one); without them association is by position alone.
        Raises ValueError for a box that is not 4 finite numbers with positive width and height,
        or descriptors that do not match the boxes.
        """
        detections = _as_box_array(boxes)
        looks = _as_appearances(appearances, len(detections))
        track_for_detection: list[_TrackState | None] = [None] * len(detections)
        matched_tracks: set[int] = set()
        for track_index, detection_index in self._associate(detections, looks):
            track = self._tracks[track_index]
            track.match(detections[detection_index], looks[detection_index])
            track_for_detection[detection_index] = track
            matched_tracks.add(track_index)

        survivors = []
        for track_index, track in enumerate(self._tracks):
            if track_index not in matched_tracks:
                track.misses += 1
                if track.misses >= self.max_misses:
                    continue
            track.age += 1
            survivors.append(track)
        self._tracks = survivors

        for detection_index, track in enumerate(track_for_detection):
            if track is None:
                track = _TrackState(self._next_id, detections[detection_index],
                                    looks[detection_index])
                self._next_id += 1
                self._tracks.append(track)
                track_for_detection[detection_index] = track

        results = []
        for track in track_for_detection:
            track.confirmed = track.confirmed or track.hits >= self.min_hits
            results.append(track.snapshot())
        return results

    @property
    def uses_appearance(self) -> bool:
        """Whether descriptors given to :meth:`update` count (``min_similarity`` > -1)."""
        return self.min_similarity > -1.0

    def end_all(self) -> None:
        """End every track now (e.g. at a scene cut: whoever is seen next is someone new).
        Ids are still never reused."""
        self._tracks = []

    def confirmed_ids(self) -> list[int]:
        """Ids of all alive confirmed tracks, ascending, including ones missed this frame."""
        return sorted(track.id for track in self._tracks if track.confirmed)

    def predictions(self) -> list[tuple[int, Box]]:
        """(id, predicted (x, y, w, h) box in the coming frame) of every track matched (or
        created) by the latest ``update``, i.e. of the faces of the latest frame, in track
        order."""
        return [(track.id, tuple(float(v) for v in track.predicted_box()))
                for track in self._tracks if track.misses == 0]

    def _associate(self, detections: np.ndarray, looks: list[np.ndarray | None]
                   ) -> list[tuple[int, int]]:
        """Optimal (track index, detection index) pairs among those passing the gate."""
        if not self._tracks or len(detections) == 0:
            return []
        predicted = np.array([track.predicted_box() for track in self._tracks])
        overlap = pairwise_iou(predicted, detections)
        distance = pairwise_normalised_centre_distance(predicted, detections)
        allowed = (overlap >= self.iou_threshold) | (distance <= self.max_center_distance)
        cost = (1.0 - overlap) + distance
        if self.uses_appearance:
            dissimilarity = self._dissimilarity(looks)
            allowed &= dissimilarity <= 1.0 - self.min_similarity
            cost += _APPEARANCE_COST * dissimilarity
        cost = np.where(allowed, cost, _GATED_OUT_COST)
        return [(t, d) for t, d in min_cost_assignment(cost) if allowed[t, d]]

    def _dissimilarity(self, looks: list[np.ndarray | None]) -> np.ndarray:
        """(tracks, detections) matrix of 1 - cosine similarity; 0 where either side has no
        descriptor."""
        out = np.zeros((len(self._tracks), len(looks)))
        have = [d for d, look in enumerate(looks) if look is not None]
        known = [t for t, track in enumerate(self._tracks) if track.appearance is not None]
        if have and known:
            tracks = np.stack([self._tracks[t].appearance for t in known])
            faces = np.stack([looks[d] for d in have])
            out[np.ix_(known, have)] = 1.0 - tracks @ faces.T
        return out


def min_cost_assignment(cost: np.ndarray) -> list[tuple[int, int]]:
    """Exact minimum-cost assignment (Hungarian method) for a finite (rows, cols) cost matrix.

    Returns ``min(rows, cols)`` (row, col) pairs, sorted by row, that use each row and each
    column at most once and minimise the summed cost.
    """
    cost = np.asarray(cost, dtype=float)
    if cost.ndim != 2 or not np.all(np.isfinite(cost)):
        raise ValueError("cost must be a 2-D matrix of finite numbers")
    transposed = cost.shape[0] > cost.shape[1]
    if transposed:
        cost = cost.T
    rows, cols = cost.shape
    # Shortest augmenting paths with potentials (1-based; column 0 is a virtual start).
    row_potential = np.zeros(rows + 1)
    col_potential = np.zeros(cols + 1)
    row_of_col = np.zeros(cols + 1, dtype=int)
    previous_col = np.zeros(cols + 1, dtype=int)
    for row in range(1, rows + 1):
        row_of_col[0] = row
        col = 0
        min_slack = np.full(cols + 1, math.inf)
        visited = np.zeros(cols + 1, dtype=bool)
        while row_of_col[col] != 0:
            visited[col] = True
            current_row = row_of_col[col]
            delta, next_col = math.inf, 0
            for j in range(1, cols + 1):
                if visited[j]:
                    continue
                slack = cost[current_row - 1, j - 1] - row_potential[current_row] - col_potential[j]
                if slack < min_slack[j]:
                    min_slack[j] = slack
                    previous_col[j] = col
                if min_slack[j] < delta:
                    delta, next_col = min_slack[j], j
            row_potential[row_of_col[visited]] += delta
            col_potential[visited] -= delta
            min_slack[~visited] -= delta
            col = next_col
        while col != 0:
            row_of_col[col] = row_of_col[previous_col[col]]
            col = previous_col[col]
    pairs = [(int(row_of_col[j]) - 1, j - 1) for j in range(1, cols + 1) if row_of_col[j] != 0]
    if transposed:
        pairs = [(c, r) for r, c in pairs]
    return sorted(pairs)


def _as_appearances(appearances, count: int) -> list[np.ndarray | None]:
    """Validated descriptors, one per box (all None without descriptors)."""
    if appearances is None:
        return [None] * count
    if len(appearances) != count:
        raise ValueError(f"got {len(appearances)} appearances for {count} boxes")
    looks = [None if a is None else np.asarray(a, dtype=float).ravel() for a in appearances]
    sizes = {look.size for look in looks if look is not None}
    if len(sizes) > 1 or any(look is not None and not np.all(np.isfinite(look))
                             for look in looks):
        raise ValueError("appearances must be finite vectors of one length (or None)")
    return looks


def _as_box_array(boxes: Sequence[Sequence[float]]) -> np.ndarray:
    """Validated (N, 4) float array of (x, y, w, h) boxes."""
    if len(boxes) == 0:
        return np.zeros((0, 4))
    try:
        array = np.asarray(boxes, dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(f"boxes must be (x, y, w, h) tuples of numbers, got {boxes!r}") from error
    if array.shape != (len(boxes), 4) or not np.all(np.isfinite(array)):
        raise ValueError(f"boxes must be (x, y, w, h) tuples of finite numbers, got {boxes!r}")
    if np.any(array[:, 2:] <= 0):
        raise ValueError(f"box width and height must be positive, got {boxes!r}")
    return array
