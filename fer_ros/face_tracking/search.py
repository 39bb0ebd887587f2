"""Follow on the frame, search beside it: the face_detector's per-frame work.  ROS-free.

Per stream:

* **The follow-up**, on every frame, on the caller's thread: every face of the previous frame
  is followed by a close-up look around the tracker's constant-velocity prediction of its
  box, enlarged by the detector's ``verify_context`` (``detector.refine``): the cheap look,
  the "short_range" model at 128x128 (~0.8 ms), its box mapped onto full_range's convention.
  A frame without faces costs nothing.
* **The full search** (``detector.detect``: BlazeFace's proposal pass plus a 192x192
  verification per proposal that is not a followed face) on a worker thread
  (:mod:`.search_worker`) with a detector of its own: LiteRT interpreters are never
  shared between threads, and LiteRT and OpenCV release the GIL while they compute (the
  process's GIL switch interval is lowered to ``GIL_SWITCH_INTERVAL_S``), at a lower
  scheduling priority (``SEARCH_NICE``) than the per-frame work.  At most one search
  is in flight and the worker holds one frame (a copy).  A frame's result does not wait for
  it: the faces a search finds join on the first frame processed after it finished, each
  found there by a close-up around its box (or not at all: the next search finds it).
* **The verification looks** (full_range at 192x192, ~2.6 ms, the model that tells faces
  from face-like textures) also run beside: a search verifies the followed faces that have
  had fewer than ``CONFIRMING_LOOKS`` of them (one verification lets an occasional false
  alarm through, two in a row rarely; the search that found a face gave it the first) or
  whose latest is half ``REVERIFY_INTERVAL_S`` (300 ms, stamp time) old; a face it refutes is
  dropped where its verdict joins, one it confirms counts the look from then.  Only when no
  search has looked at a face for ``REVERIFY_INTERVAL_S`` does the caller's thread (one face
  per frame), so a false alarm the cheap model would follow is not followed for long.
* **The first frame of the stream and of each scene** (a cut, :mod:`.scene_change`)
  get the whole search on the caller's thread before they are answered: nothing is left to
  follow there, and searching them beside reports a scene's faces one frame late (3 points
  of recall on the bench's hard clip, a cut every second).  A cut also ends every track
  (whoever is seen after it is someone new to the tracker) and discards the search in flight.

When a search starts beside (:func:`search_wait_s`, pure; wall time, as the budget is CPU
time), on the first frame the worker is free and it is due:

* routinely ``cost / max_search_share`` after the previous search started (``cost``: that
  search's CPU time), so searching uses at most ``max_search_share`` of one core;
* sooner, at twice that share, after a loss: the close-up no longer confirms a followed face,
  or two followed faces end on one face (the better one is kept);
* later, every ``search_interval_ms``, while the scene is still: no frame since the previous
  search started differed from the one before it (:mod:`.scene_change`), and no
  followed face is due for a verification look.

**Defaults, reasoned for a 2-core AVX2 CPU** (AMD Zen 3, issue 19: the full search 17-25 ms,
the int8 emotion CNN 2.8 ms a face; the close-ups, float models, about twice this AVX-512
machine's 0.8 / 2.6 ms).  ``max_search_share`` 0.5 is the least share that keeps the
guarantee below within the bench's 150 ms there (20 / 0.5 + 25 + 67 = 132 ms; 0.3 gives
~160 ms), and leaves a core and a half for the 4-process graph at 30 fps, which needs about
half a core there (close-ups ~2.5 ms, CNN ~4 ms, camera and annotator ~6 ms per frame).
``search_interval_ms`` 500: a still frame has nothing new to find.  Checked with AVX2 code
paths on the AVX-512 machine (``scripts/as_avx2.sh``, docs/BENCH.md): new faces at most 67
ms after the every-frame search's, 100 % of the frames answered; on a real Zen 3 (AMD EPYC
family 25 model 1, twelve runs): at most 67 ms (100 ms in three), 98-100 % answered.

**Guarantee traded for it.**  A face that comes into view (and so changes the frame) is
reported at most ``cost / max_search_share`` + one search's duration + two frame intervals
after the first frame that shows it (a search starts on a frame and its faces join on a
frame): e.g. 20 ms / 0.5 + 25 ms + 67 ms = 132 ms for a 20 ms search on a 30 fps camera,
where searching every frame reports it on that frame, unless it is a scene's first frame
(reported on it here too).  A change too faint for the frame difference (under
``scene_change.STILL_LEVELS`` grey levels per 20x20 px cell) waits up to
``search_interval_ms`` instead.  A track is confirmed ``tracker_min_hits - 1`` frames after
it is reported, as with the search on every frame.  ``make bench`` measures the new-face
latency against the every-frame search.

``search_interval_ms: 0`` is the recall reference: the whole search on the caller's thread,
on every frame, and no close-up follow-up; Haar (no close-up model) always works so.
Close-ups run one by one: batching them into one interpreter call was measured no faster with
one interpreter thread (LiteRT's XNNPACK runs a batch as that many passes).

The tracker always runs (its predictions place the close-ups); ``tracking: false`` only
hides its ids.  One object serves one stream; ``process`` is called from one thread at a
time; ``close`` ends the worker.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from fer_ros.boxes import is_duplicate, xywh_to_xyxy
from fer_ros.face_detection import DETECTOR_NAMES, Detection, FaceDetectorError, make_detector
from fer_ros.face_detection.common import check_frame
from fer_ros.face_tracking.appearance import describe_faces
from fer_ros.face_tracking.scene_change import Change, SceneChange
from fer_ros.face_tracking.search_worker import OneSlotWorker
from fer_ros.face_tracking.tracker import FaceTracker, Track
from fer_ros.parameters import ParamSpec, check_values, defaults

__all__ = ["CONFIRMING_LOOKS", "GIL_SWITCH_INTERVAL_S", "REVERIFY_INTERVAL_S", "SEARCH_NICE",
           "SEARCH_PARAMS", "URGENT_SHARE_FACTOR", "FaceSearch", "SearchResult",
           "check_search_params", "make_face_detector", "make_face_search",
           "needs_search_detector", "search_wait_s"]

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
    ParamSpec("max_search_share", 0.5, "BlazeFace: the full-frame search runs beside the "
              "per-frame close-ups on a worker thread, using at most this share of one CPU "
              "core (twice it after a lost face); a new face is reported within search time "
              "/ share + search time + two frame intervals. The first frame and a scene "
              "cut's are searched before they are answered.", min=0.01, max=1.0),
    ParamSpec("search_interval_ms", 500.0, "BlazeFace: while the scene is still (no frame "
              "differs from the previous one), search only this often. 0 = search every frame "
              "before answering it, with no close-ups (the recall reference; haar always "
              "does).", read_only=True, min=0.0, max=10000.0),
    ParamSpec("tracking", True, "Give faces track ids that persist across frames "
              "(fer_ros.face_tracking.tracker.FaceTracker); when false every id is 0.",
              read_only=True),
    ParamSpec("tracker_iou_threshold", 0.3, "Tracker: minimum IoU of a detection with a "
              "track's predicted box to join it (> 0).", read_only=True, min=0.0, max=1.0),
    ParamSpec("tracker_max_center_distance", 0.5, "Tracker: or maximum centre distance, in "
              "face sizes.", read_only=True, min=0.0, max=100.0),
    ParamSpec("tracker_min_hits", 3, "Tracker: matches before a track is confirmed.",
              read_only=True, min=1, max=1000),
    ParamSpec("tracker_max_misses", 5, "Tracker: processed frames without a match before a "
              "track is dropped.", read_only=True, min=1, max=10000),
    ParamSpec("tracker_min_similarity", 0.5, "Tracker: a face whose appearance "
              "(fer_ros.face_tracking.appearance) has a cosine similarity below this to a "
              "track's may not join it: another person in a face's place gets a new id. "
              "-1 = position only.",
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
# After a loss or a scene cut the search may use this many times max_search_share (capped at
# a whole core): the next search is the one that finds what the close-ups lost.
URGENT_SHARE_FACTOR = 2.0
# The worker and the caller's thread (in a node: the executor's) share the GIL; a thread that
# wants it waits up to the interpreter's switch interval (5 ms by default) while the other
# runs Python code between two LiteRT calls.  Measured in the one-process graph on the hard
# clip at 30 fps (contended 2-core AMD EPYC): p95 capture -> annotated 45.6 ms with 5 ms,
# 23.2 ms with 0.5 ms.  Set process-wide when the first worker is made; never raised.
GIL_SWITCH_INTERVAL_S = 0.0005
# The worker's nice value above the caller's thread: the per-frame work (close-ups, and the
# emotion CNN's interpreter threads in the same process) preempts the search, which gets the
# CPU time they leave.  `bench.py --clips hard --graphs processes@30 pipeline@30`, 2-core AMD
# EPYC family 26, two runs each, 10 against 0: the bare loop (1-3 faces) 2.23-2.43x the
# every-frame loop against 1.77-1.91x with AVX2 code paths (compact CNN: 2.52-2.63x against
# 1.97-2.14x), natively 2.58-2.81x against 2.53-2.65x; recall, new-face latency and ids
# unchanged.  Graph p95 moved within the run-to-run spread: 4 processes 25.2-26.7 ms against
# 22.3-24.2 (AVX2 code paths), 14.8-15.8 against 16.9-17.5 (native): a niced thread that is
# preempted while it holds the GIL stalls the caller until it runs again, which other busy
# processes can delay.
SEARCH_NICE = 10
# Slack on the reverify schedule: stamps are whole nanoseconds turned into float seconds,
# whose rounding must not push a look due exactly on time to the next frame.
_SCHEDULE_SLACK_S = 1e-6


def search_wait_s(cost_s: float, max_share: float, still_interval_s: float, *,
                  urgent: bool, still: bool) -> float:
    """Seconds from one search's start to the next one's, given the first one's CPU time
    ``cost_s``: the worker's CPU time over wall time stays within ``max_share`` (twice that,
    up to 1, when ``urgent``: after a loss or a cut); a ``still`` scene waits at least
    ``still_interval_s``."""
    if urgent:
        return cost_s / min(1.0, URGENT_SHARE_FACTOR * max_share)
    wait = cost_s / max_share
    return max(wait, still_interval_s) if still else wait


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


def needs_search_detector(values: Mapping[str, Any]) -> bool:
    """Whether ``values`` make the search run beside the close-ups (on a detector of its
    own): BlazeFace with a non-zero ``search_interval_ms``."""
    v = _complete(values)
    return v["detector"] == "blazeface" and v["search_interval_ms"] > 0


def make_face_search(values: Mapping[str, Any],
                     clock: Callable[[], float] = time.monotonic) -> FaceSearch:
    """A FaceSearch from face_detector parameter values (missing names take the defaults;
    names that are not SEARCH_PARAMS are ignored); ``clock``: the schedule's wall clock,
    seconds.  Raises FaceDetectorError."""
    v = _complete(values)
    tracker = FaceTracker(iou_threshold=v["tracker_iou_threshold"],
                          max_center_distance=v["tracker_max_center_distance"],
                          min_hits=v["tracker_min_hits"], max_misses=v["tracker_max_misses"],
                          min_similarity=v["tracker_min_similarity"])
    search_detector = make_face_detector(v) if needs_search_detector(v) else None
    return FaceSearch(make_face_detector(v), tracker, v["search_interval_ms"] / 1000.0,
                      report_tracks=v["tracking"], search_detector=search_detector,
                      max_search_share=v["max_search_share"], clock=clock)


@dataclass(frozen=True)
class SearchResult:
    """One frame's faces.  ``tracks`` is aligned with ``detections`` (None when tracking is
    off); ``tracked_ids`` are the confirmed track ids; ``searched``: a full search started on
    this frame (searching every frame: ran on it)."""

    detections: list[Detection]
    tracks: list[Track] | None
    tracked_ids: list[int]
    searched: bool


@dataclass(frozen=True)
class _Job:
    """What the worker does on a frame (a copy): search it for faces other than the ``known``
    boxes, and give the followed faces in ``verify`` ((track id, box), ...) the verification
    look."""

    generation: int
    detector: Any
    bgr: np.ndarray
    known: list
    verify: list


def _search(job: _Job) -> tuple[list[Detection], dict[int, bool]]:
    """(new faces, {track id: the verification look confirmed it})."""
    new = job.detector.detect(job.bgr, known=job.known)
    looked = job.detector.refine(job.bgr, [box for _, box in job.verify],
                                 strong=[True] * len(job.verify)) if job.verify else []
    return new, {track_id: d is not None for (track_id, _), d in zip(job.verify, looked)}


@dataclass
class _Face:
    """A face on this frame: its detection, the verification looks it got for this frame
    (0: the cheap close-up only), the track it was followed as (None: new)."""

    detection: Detection
    looks: int
    track_id: int | None = None


class FaceSearch:
    """Follows faces on every frame and searches beside it (see the module doc).

    ``search_detector``: the worker's own detector (same parameters as ``detector``), needed
    when ``search_interval_s`` > 0 and ``detector`` can refine; without one (or with
    ``search_interval_s`` 0, or Haar) every frame is searched before it is answered.
    """

    def __init__(self, detector, tracker: FaceTracker, search_interval_s: float,
                 report_tracks: bool = True, *, search_detector=None,
                 max_search_share: float = 0.5,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not math.isfinite(search_interval_s) or search_interval_s < 0:
            raise ValueError(f"search_interval_s must be a finite number >= 0, "
                             f"got {search_interval_s!r}")
        self.detector = detector
        self.tracker = tracker
        self.search_interval_s = float(search_interval_s)
        self.report_tracks = bool(report_tracks)
        self.max_search_share = max_search_share
        self.search_detector = search_detector
        self._clock = clock
        self._scene = SceneChange()
        self._worker: OneSlotWorker | None = None
        if not self.every_frame:
            self._worker = OneSlotWorker(_search, name="face_search", nice=SEARCH_NICE)
            sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_INTERVAL_S))
        self._generation = 0            # bumped when a search in flight is to be discarded
        self._last_start: float | None = None
        self._last_cost_s = 0.0
        self._moved = True              # a frame changed since the previous search started
        self._urgent = False            # a loss or a cut since the previous search started
        # track id -> (stamp of its latest verification look, verification looks so far)
        self._strong_looks: dict[int, tuple[float, int]] = {}
        # counters for benchmarks and tests
        self.frames = 0
        self.searches = 0           # searches started (every frame: run)
        self.lost_searches = 0      # ... of them started early after a loss
        self.closeups = 0           # faces followed by the close-up look
        self.joined = 0             # faces a search found that joined on a later frame
        self.cuts = 0               # scene cuts seen (each ended the tracks)
        self.search_cpu_s = 0.0     # the worker's CPU time in searches

    @property
    def max_search_share(self) -> float:
        return self._max_search_share

    @max_search_share.setter
    def max_search_share(self, share: float) -> None:
        if not 0 < share <= 1:
            raise ValueError(f"max_search_share must be in (0, 1], got {share!r}")
        self._max_search_share = float(share)

    @property
    def every_frame(self) -> bool:
        """The whole search runs on every frame before it is answered (the recall
        reference)."""
        return (self.search_interval_s == 0 or not self.detector.can_refine
                or self.search_detector is None)

    def wait_for_search(self, timeout_s: float | None = None) -> bool:
        """Block until no search is in flight (offline processing and tests; the node never
        waits); its faces join on the next ``process``.  False on a timeout."""
        return self._worker is None or self._worker.wait(timeout_s)

    def close(self) -> None:
        """End the worker (after the search in flight); ``process`` must not follow."""
        if self._worker is not None:
            self._worker.close()

    def replace_detector(self, detector, search_detector=None) -> None:
        """Use ``detector`` (and ``search_detector`` on the worker) from the next frame on;
        tracks are kept, a search starts on the next frame, one in flight is discarded."""
        if self._worker is not None and search_detector is None and detector.can_refine:
            raise ValueError("the search beside the close-ups needs a search_detector")
        self.detector = detector
        self.search_detector = search_detector
        self._generation += 1
        self._last_start = None
        self._strong_looks.clear()

    def process(self, bgr: np.ndarray, t_s: float) -> SearchResult:
        """Faces of one frame stamped ``t_s`` (seconds), best first."""
        if not math.isfinite(t_s):
            raise ValueError(f"frame time must be a finite number of seconds, got {t_s!r}")
        bgr = check_frame(bgr)
        self.frames += 1
        change = self._scene.update(bgr)
        if change is Change.CUT:
            self.cuts += 1
            self.tracker.end_all()
            self._strong_looks.clear()
            self._generation += 1
        beside = not (self.every_frame or change in (Change.FIRST, Change.CUT))
        if beside:
            self._moved |= change is not Change.STILL
            predictions = self.tracker.predictions()
            found, lost = self._follow(bgr, predictions, t_s) if predictions else ([], False)
            self.closeups += len(predictions)
            self._urgent |= lost
            found = self._join(bgr, found)
        else:
            found = self._search_here(bgr)
        detections = [f.detection for f in found]
        appearances = describe_faces(bgr, detections) if self.tracker.uses_appearance else None
        tracks = self.tracker.update([d.box for d in detections], appearances)
        looks = {}
        for track, face in zip(tracks, found):
            last = self._strong_looks.get(track.id, (-math.inf, 0))
            looks[track.id] = (t_s, last[1] + face.looks) if face.looks else last
        self._strong_looks = looks
        searched = self._start_search(bgr, detections, tracks, t_s) if beside else True
        if not self.report_tracks:
            return SearchResult(detections, None, [], searched)
        return SearchResult(detections, tracks, self.tracker.confirmed_ids(), searched)

    def _search_here(self, bgr) -> list[_Face]:
        """The whole search on this frame, on the caller's thread (with the caller's
        detector); the schedule counts it as a search started now."""
        cpu0 = time.thread_time()
        found = [_Face(d, 1) for d in self.detector.detect(bgr)]
        self.searches += 1
        if self._worker is not None:
            stale = self._worker.take()     # a search of an earlier frame: an older scene
            self._last_cost_s = time.thread_time() - cpu0
            self.search_cpu_s += self._last_cost_s + (stale.cpu_s if stale else 0.0)
            self._last_start, self._moved, self._urgent = self._clock(), False, False
        return found

    def _age(self, track_id: int, t_s: float) -> float:
        """Stamp time since the track's latest verification look (inf: none yet; a stamp
        that is not behind this frame's, a clock gone back, counts as old too)."""
        age = t_s - self._strong_looks.get(track_id, (-math.inf, 0))[0]
        return age if age > 0 else math.inf

    def _follow(self, bgr, predictions, t_s: float) -> tuple[list[_Face], bool]:
        """Close-up look at each predicted box: the faces it confirms, best first, and
        whether a face was lost (not confirmed, or on the same face as a better one:
        dropped).  The verification model looks at the face whose latest such look is
        oldest once that is ``REVERIFY_INTERVAL_S`` old (the searches beside keep it younger
        while they run)."""
        ages = [self._age(track_id, t_s) for track_id, _ in predictions]
        oldest = int(np.argmax(ages))
        strong = [i == oldest and ages[i] >= REVERIFY_INTERVAL_S - _SCHEDULE_SLACK_S
                  for i in range(len(predictions))]
        looked = self.detector.refine(bgr, [box for _, box in predictions], strong=strong)
        faces = sorted((_Face(d, int(s), track_id) for d, s, (track_id, _)
                        in zip(looked, strong, predictions) if d is not None),
                       key=lambda f: -f.detection.score)
        kept = self._distinct([], faces)
        return kept, len(kept) < len(predictions)

    def _distinct(self, kept: list[_Face], candidates: list[_Face]) -> list[_Face]:
        """``kept`` plus the ``candidates`` (in order) that are not on a face already kept."""
        out = list(kept)
        for face in candidates:
            box = xywh_to_xyxy([face.detection.box])[0]
            if not any(is_duplicate(box, k, self.detector.nms_iou)
                       for k in xywh_to_xyxy([f.detection.box for f in out])):
                out.append(face)
        return out

    def _join(self, bgr, followed: list[_Face]) -> list[_Face]:
        """``followed`` with a finished search's verdicts (a followed face its verification
        look refuted is dropped, one it confirmed gains a look) plus the new faces it found
        that the close-up confirms on this frame, best first, at most ``max_faces``."""
        done = self._worker.take()
        if done is None:
            return followed
        self.search_cpu_s += done.cpu_s
        self._last_cost_s = done.cpu_s
        if done.job.generation != self._generation:
            return followed     # it looked at an older scene or used a replaced detector
        if done.error is not None:
            raise done.error
        found, verdicts = done.value
        followed = [f for f in followed if verdicts.get(f.track_id, True)]
        for face in followed:
            face.looks += verdicts.get(face.track_id, False)
        new = self._distinct(followed, [_Face(d, 1) for d in found])[len(followed):]
        if new:
            looked = self.detector.refine(bgr, [f.detection.box for f in new])
            new = self._distinct(followed, [_Face(d, 1) for d in looked if d is not None])
            new = new[len(followed):]
            self.joined += len(new)
        faces = sorted(followed + new, key=lambda f: -f.detection.score)
        return faces[:self.detector.max_faces]

    def _start_search(self, bgr, detections: list[Detection], tracks: list[Track],
                      t_s: float) -> bool:
        """Hand this frame to the worker if it is free and a search is due; it also verifies
        the faces that have had fewer than ``CONFIRMING_LOOKS`` verification looks or whose
        latest is half ``REVERIFY_INTERVAL_S`` old."""
        if not self._worker.idle:
            return False
        boxes = [d.box for d in detections]
        verify = []
        for track, box in zip(tracks, boxes):
            last, looks = self._strong_looks[track.id]
            # a look stamped later than this frame (a clock gone back) counts as old
            if looks < CONFIRMING_LOOKS or not 0 <= t_s - last < REVERIFY_INTERVAL_S / 2:
                verify.append((track.id, box))
        now = self._clock()
        if self._last_start is not None:
            # a still scene with a face to verify waits no longer than a moving one
            wait = search_wait_s(self._last_cost_s, self.max_search_share,
                                 self.search_interval_s, urgent=self._urgent,
                                 still=not (self._moved or verify))
            if now - self._last_start < wait:
                return False
        job = _Job(self._generation, self.search_detector, bgr.copy(), boxes, verify)
        if not self._worker.submit(job):
            return False
        self.searches += 1
        self.lost_searches += self._urgent
        self._last_start, self._moved, self._urgent = now, False, False
        return True
