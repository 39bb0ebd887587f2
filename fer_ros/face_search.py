"""Search less, track more: which frames get the full-frame face search.  ROS-free.

The full search (``detector.detect``: BlazeFace's proposal pass plus a close-up verification
per proposal) runs

* on the first frame,
* on schedule: on the first frame whose stamp is ``search_interval_ms`` or more after the
  previous search (0 = every frame),
* when a track is lost: the close-up look no longer confirms a face followed from the
  previous frame (or two followed faces end on one face); the whole search then runs on that
  same frame, so it reports what an every-frame search would,
* when the stamps do not advance (equal or going back: a restarted stream or unstamped
  images), so a bad clock can only make it search more.

Every face of the previous frame is followed by a close-up look around the tracker's
constant-velocity prediction of its box, enlarged by the detector's ``verify_context``
(``detector.refine``), on every frame, searched or not; a frame without faces costs nothing.
The look is the cheap one (the "short_range" model at 128x128, ~0.8 ms, its box mapped onto
full_range's convention) except that the search's own verification model (full_range at
192x192, ~2.6 ms, the one that tells faces from face-like textures) looks again

* at a face on the frame after the search found it (``CONFIRMING_LOOKS``: one verification
  lets an occasional false alarm through, two in a row rarely), and
* at the followed face whose last such look is oldest, once that is ``REVERIFY_INTERVAL_S``
  (300 ms) old: one face per frame at most, so a false alarm is not followed for long.

A scheduled search then verifies only the proposals that are not a followed face; on a lost
face it runs whole, as an every-frame search would.  ``search_interval_ms: 0`` is the
recall reference: the whole search on every frame and no close-up follow-up.  Close-ups run
one by one: batching them into one interpreter call was measured no faster with one
interpreter thread (LiteRT's XNNPACK runs a batch as that many passes, and resizing the input
costs ~1.5 ms).

Guarantee traded for it: a face the search finds is reported on the first frame at least
``search_interval_ms`` after the previous search, i.e. less than ``search_interval_ms`` (in
stamp time) after the first frame that shows it when frames come evenly spaced, and less than
``search_interval_ms`` plus the longest gap between processed frames in any case.  Its track
is confirmed ``tracker_min_hits - 1`` frames later, as before.

Haar has no close-up model (``can_refine`` is false): with it every frame is searched.

The tracker always runs (its predictions place the close-ups); ``tracking: false`` only
hides its ids.  One object serves one stream and is not thread-safe.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from fer_ros.appearance import describe_faces
from fer_ros.boxes import is_duplicate, xywh_to_xyxy
from fer_ros.face_detection import DETECTOR_NAMES, Detection, FaceDetectorError, make_detector
from fer_ros.parameters import ParamSpec, check_values, defaults
from fer_ros.tracking import FaceTracker, Track

__all__ = ["CONFIRMING_LOOKS", "REVERIFY_INTERVAL_S", "SEARCH_PARAMS", "FaceSearch",
           "SearchResult", "check_search_params", "make_face_detector", "make_face_search"]

#: face_detector node parameters that configure the detector, the tracker and the schedule
SEARCH_PARAMS = (
    ParamSpec("detector", "blazeface", "Face detector: 'blazeface' (MediaPipe BlazeFace, "
              "TFLite) or 'haar' (OpenCV Haar cascade).", read_only=True,
              choices=DETECTOR_NAMES),
    ParamSpec("score_threshold", 0.5, "Minimum detector confidence of a face.",
              min=0.0, max=1.0),
    ParamSpec("min_face_size", 20, "Smallest face (smaller box side, pixels) to report.",
              min=1, max=10000),
    ParamSpec("max_faces", 10, "At most this many faces per frame (best first).",
              min=1, max=100),
    ParamSpec("search_interval_ms", 50.0, "BlazeFace: run the full-frame search at most "
              "this often (stamp time), plus on the first frame and whenever a followed face "
              "is lost; in between only the close-up model follows the faces of the previous "
              "frame. A new face is reported within this time. 0 = search every frame (haar "
              "always does).", read_only=True, min=0.0, max=10000.0),
    ParamSpec("tracking", True, "Give faces track ids that persist across frames "
              "(fer_ros.tracking.FaceTracker); when false every id is 0.", read_only=True),
    ParamSpec("tracker_iou_threshold", 0.3, "Tracker: minimum IoU of a detection with a "
              "track's predicted box to join it (> 0).", read_only=True, min=0.0, max=1.0),
    ParamSpec("tracker_max_center_distance", 0.5, "Tracker: or maximum centre distance, in "
              "face sizes.", read_only=True, min=0.0, max=100.0),
    ParamSpec("tracker_min_hits", 3, "Tracker: matches before a track is confirmed.",
              read_only=True, min=1, max=1000),
    ParamSpec("tracker_max_misses", 5, "Tracker: processed frames without a match before a "
              "track is dropped.", read_only=True, min=1, max=10000),
    ParamSpec("tracker_min_similarity", 0.5, "Tracker: a face whose appearance "
              "(fer_ros.appearance) has a cosine similarity below this to a track's may not "
              "join it: another person in a face's place gets a new id. -1 = position only.",
              read_only=True, min=-1.0, max=1.0),
)

_NAMES = frozenset(spec.name for spec in SEARCH_PARAMS)
# The cheap close-up model alone confirms a followed face; the search's verification model
# looks at each followed face again at least this often (stamp time), so a false alarm it once
# let through is not followed for long by the cheap model, which tells faces from face-like
# textures less well.
REVERIFY_INTERVAL_S = 0.3
# ... and a face is followed by the cheap model alone only once the verification model has
# confirmed it on this many frames: one verification lets an occasional false alarm through,
# two in a row rarely.
CONFIRMING_LOOKS = 2
# Slack on the schedule: stamps are whole nanoseconds turned into float seconds, whose rounding
# must not push a search due exactly on time to the next frame.
_SCHEDULE_SLACK_S = 1e-6


def check_search_params(values: Mapping[str, Any]) -> list[str]:
    """The rule beyond the SEARCH_PARAMS ranges: the tracker's IoU threshold is > 0."""
    iou = values.get("tracker_iou_threshold")
    if isinstance(iou, float) and iou <= 0.0:
        return ["tracker_iou_threshold: must be > 0"]
    return []


def _complete(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values``' SEARCH_PARAMS, validated, the missing ones at their defaults."""
    ours = {name: value for name, value in values.items() if name in _NAMES}
    problems = check_values(SEARCH_PARAMS, ours) + check_search_params(ours)
    if problems:
        raise FaceDetectorError("bad face_detector parameters: " + "; ".join(problems))
    full = defaults(SEARCH_PARAMS)
    full.update(ours)
    return full


def make_face_detector(values: Mapping[str, Any]):
    """The detector named by ``values`` (missing names take their defaults)."""
    v = _complete(values)
    return make_detector(v["detector"], score_threshold=v["score_threshold"],
                         min_face_size=v["min_face_size"], max_faces=v["max_faces"])


def make_face_search(values: Mapping[str, Any]) -> FaceSearch:
    """A FaceSearch from face_detector parameter values (missing names take the defaults;
    names that are not SEARCH_PARAMS are ignored).  Raises FaceDetectorError."""
    v = _complete(values)
    tracker = FaceTracker(iou_threshold=v["tracker_iou_threshold"],
                          max_center_distance=v["tracker_max_center_distance"],
                          min_hits=v["tracker_min_hits"], max_misses=v["tracker_max_misses"],
                          min_similarity=v["tracker_min_similarity"])
    return FaceSearch(make_face_detector(v), tracker, v["search_interval_ms"] / 1000.0,
                      report_tracks=v["tracking"])


@dataclass(frozen=True)
class SearchResult:
    """One frame's faces.  ``tracks`` is aligned with ``detections`` (None when tracking is
    off); ``tracked_ids`` are the confirmed track ids; ``searched``: the full search ran."""

    detections: list[Detection]
    tracks: list[Track] | None
    tracked_ids: list[int]
    searched: bool


class FaceSearch:
    """Runs the full search or the close-up follow-up on each frame (see the module doc)."""

    def __init__(self, detector, tracker: FaceTracker, search_interval_s: float,
                 report_tracks: bool = True) -> None:
        if not math.isfinite(search_interval_s) or search_interval_s < 0:
            raise ValueError(f"search_interval_s must be a finite number >= 0, "
                             f"got {search_interval_s!r}")
        self.detector = detector
        self.tracker = tracker
        self.search_interval_s = float(search_interval_s)
        self.report_tracks = bool(report_tracks)
        self._last_search_s: float | None = None
        # track id -> (stamp of its latest strong look, strong looks so far)
        self._strong_looks: dict[int, tuple[float, int]] = {}
        # counters for benchmarks and tests
        self.frames = 0
        self.searches = 0
        self.lost_searches = 0      # searches run because a followed face was lost
        self.closeups = 0           # faces followed by the close-up look alone (no search)

    def replace_detector(self, detector) -> None:
        """Use ``detector`` from the next frame on (tracks are kept); searches next frame."""
        self.detector = detector
        self._last_search_s = None
        self._strong_looks.clear()

    def process(self, bgr: np.ndarray, t_s: float) -> SearchResult:
        """Faces of one frame stamped ``t_s`` (seconds), best first."""
        if not math.isfinite(t_s):
            raise ValueError(f"frame time must be a finite number of seconds, got {t_s!r}")
        self.frames += 1
        searched = self._search_due(t_s)
        predictions = [] if self._always_search() else self.tracker.predictions()
        followed = self._follow(bgr, predictions, t_s) if predictions else []
        if followed is None:
            self.lost_searches += 1
            followed, searched = [], True
        elif not searched:
            self.closeups += len(predictions)
        if searched:
            # faces followed on this frame are confirmed already: only new ones are verified
            known = [d.box for d, _ in followed]
            new = self.detector.detect(bgr, known=known) if known else self.detector.detect(bgr)
            followed = sorted(followed + [(d, True) for d in new], key=lambda f: -f[0].score)
            del followed[self.detector.max_faces:]
            self._last_search_s = t_s
            self.searches += 1
        detections = [d for d, _ in followed]
        appearances = describe_faces(bgr, detections) if self.tracker.uses_appearance else None
        tracks = self.tracker.update([d.box for d in detections], appearances)
        looks = {}
        for track, (_, strong) in zip(tracks, followed):
            last = self._strong_looks.get(track.id, (-math.inf, 0))
            looks[track.id] = (t_s, last[1] + 1) if strong else last
        self._strong_looks = looks
        if not self.report_tracks:
            return SearchResult(detections, None, [], searched)
        return SearchResult(detections, tracks, self.tracker.confirmed_ids(), searched)

    def _always_search(self) -> bool:
        return self.search_interval_s == 0 or not self.detector.can_refine

    def _search_due(self, t_s: float) -> bool:
        last = self._last_search_s
        return (self._always_search() or last is None or t_s <= last
                or t_s - last >= self.search_interval_s - _SCHEDULE_SLACK_S)

    def _follow(self, bgr, predictions, t_s: float) -> list[tuple[Detection, bool]] | None:
        """Close-up look at each predicted box: (detection, strong look) pairs, best first;
        None when a face is lost (not confirmed, or merged with another one)."""
        strong = [self._strong_looks.get(track_id, (-math.inf, 0))[1] < CONFIRMING_LOOKS
                  for track_id, _ in predictions]
        ages = [t_s - self._strong_looks.get(track_id, (-math.inf, 0))[0]
                for track_id, _ in predictions]
        oldest = int(np.argmax(ages))
        # a stamp that is not behind this frame's (a clock gone back) counts as old
        strong[oldest] |= not 0 < ages[oldest] < REVERIFY_INTERVAL_S - _SCHEDULE_SLACK_S
        found = self.detector.refine(bgr, [box for _, box in predictions], strong=strong)
        if any(d is None for d in found):
            return None
        pairs = sorted(zip(found, strong), key=lambda f: -f[0].score)
        corners = xywh_to_xyxy([d.box for d, _ in pairs])
        for i in range(1, len(pairs)):
            if any(is_duplicate(corners[i], corners[j], self.detector.nms_iou)
                   for j in range(i)):
                return None
        return pairs
