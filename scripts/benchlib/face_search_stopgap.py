"""TEMPORARY until face_search lands: today's face_detector processing behind the
``fer_ros.face_search`` contract (``make_face_search(values).process(bgr, t_s)``), so the
bench's bare loop runs before that module exists.  It does what FaceDetectorNode._process
does today: detect on every frame (with the tracking hint), then track.  The integrator
deletes this file and its one use in benchlib/bareloop.py when fer_ros/face_search.py lands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping


@dataclass
class StopgapOutput:
    detections: list
    tracks: list | None
    tracked_ids: list[int]
    searched: bool = True        # today every frame runs the full-frame search


class StopgapSearch:
    def __init__(self, values: Mapping[str, Any]) -> None:
        from fer_ros.face_detection import make_detector
        from fer_ros.nodes.face_detector_node import PARAMS
        from fer_ros.tracking import FaceTracker

        v = {spec.name: spec.default for spec in PARAMS}
        v.update(values)
        self._detector = make_detector(v["detector"], score_threshold=v["score_threshold"],
                                       min_face_size=v["min_face_size"],
                                       max_faces=v["max_faces"])
        self._tracker = (FaceTracker(iou_threshold=v["tracker_iou_threshold"],
                                     max_center_distance=v["tracker_max_center_distance"],
                                     min_hits=v["tracker_min_hits"],
                                     max_misses=v["tracker_max_misses"])
                         if v["tracking"] else None)
        self._hint = bool(v["tracking_hint"])
        self._trusted: list[tuple[int, int, int, int]] = []

    def process(self, bgr, t_s: float) -> StopgapOutput:
        hint = self._trusted if self._tracker is not None and self._hint else None
        detections = (self._detector.detect(bgr, trusted_boxes=hint) if hint
                      else self._detector.detect(bgr))
        if self._tracker is None:
            return StopgapOutput(detections, None, [])
        tracks = self._tracker.update([d.box for d in detections])
        self._trusted = [d.box for d, t in zip(detections, tracks) if t.confirmed]
        return StopgapOutput(detections, tracks, self._tracker.confirmed_ids())
