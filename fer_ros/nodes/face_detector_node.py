"""face_detector node: image_raw -> faces (fer_ros/FaceDetectionArray).

Latest-frame processing: the subscription callback only stores the newest image in a
:class:`fer_ros.frame_slot.FrameSlot`; whichever callback thread holds the slot's worker lock
detects faces on the newest frame, and stale frames are dropped (counted as ``dropped``). The
latency therefore does not grow when frames arrive faster than they can be processed.

Malformed images (unknown encoding, step/size mismatch, zero size) are rejected: counted as
``rejected``, logged with a throttle, and the node goes on with the next frame.

A managed (lifecycle) node: ``configure`` builds the detector (loads its model) and the
tracker and creates the ``faces`` lifecycle publisher, ``activate`` subscribes to
``image_raw``, ``deactivate`` unsubscribes, ``cleanup`` releases the detector and the
publisher. With ``autostart`` (default) it goes to active by itself.
"""

from __future__ import annotations

import threading
from typing import Any

from sensor_msgs.msg import Image, RegionOfInterest

from fer_ros.budget import max_image_pixels_spec
from fer_ros.diagnostics import check_thresholds, diagnostics_specs
from fer_ros.face_detection import crop, make_detector
from fer_ros.msg import FaceDetection, FaceDetectionArray
from fer_ros.nodes import FerLifecycleNode, init_or_destroy, run_node
from fer_ros.parameters import (ParamSpec, check_values, lifecycle_specs, make_qos,
                                subscription_specs)
from fer_ros.ros_image import ImageEncodingError, bgr_to_image_msg, copy_header, image_msg_to_bgr
from fer_ros.tracking import FaceTracker

DETECTOR_CHOICES = ("blazeface", "haar")

#: topics (relative names) -> message type
PUBLISHES = {"faces": "fer_ros/msg/FaceDetectionArray"}
SUBSCRIBES = {"image_raw": "sensor_msgs/msg/Image"}

PARAMS = (
    ParamSpec("detector", "blazeface", "Face detector: 'blazeface' (MediaPipe BlazeFace, "
              "TFLite) or 'haar' (OpenCV Haar cascade).", read_only=True,
              choices=DETECTOR_CHOICES),
    ParamSpec("score_threshold", 0.5, "Minimum detector confidence of a face.",
              min=0.0, max=1.0),
    ParamSpec("min_face_size", 20, "Smallest face (smaller box side, pixels) to report.",
              min=1, max=10000),
    ParamSpec("max_faces", 10, "At most this many faces per frame (best first).",
              min=1, max=100),
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
    ParamSpec("tracking_hint", True, "Pass the previous frame's boxes of confirmed tracks "
              "to the detector (detect(trusted_boxes=...)), so BlazeFace skips its "
              "verification pass for faces it keeps seeing (re-verified every few frames). "
              "No effect with haar or tracking off."),
    max_image_pixels_spec("image_raw frames"),
) + subscription_specs(default_depth=1) + lifecycle_specs() + diagnostics_specs()


def check_params(values: dict[str, Any]) -> list[str]:
    """Pure validation of the face_detector parameters (complete or partial set)."""
    problems = check_values(PARAMS, values) + check_thresholds(values)
    iou = values.get("tracker_iou_threshold")
    if isinstance(iou, float) and iou <= 0.0:
        problems.append("tracker_iou_threshold: must be > 0")
    return problems


def detections_to_msg(header, bgr, detections, tracks, tracked_ids) -> FaceDetectionArray:
    """Build the FaceDetectionArray for one frame (pure apart from the message types)."""
    out = FaceDetectionArray()
    out.header = copy_header(header)
    out.image_height, out.image_width = int(bgr.shape[0]), int(bgr.shape[1])
    for i, det in enumerate(detections):
        face = FaceDetection()
        if tracks is not None:
            face.id = int(tracks[i].id)
            face.confirmed = bool(tracks[i].confirmed)
        face.box = RegionOfInterest(x_offset=int(det.x), y_offset=int(det.y),
                                    width=int(det.w), height=int(det.h), do_rectify=False)
        face.score = float(det.score)
        out.faces.append(face)
        out.crops.append(bgr_to_image_msg(crop(bgr, det), header))
    out.tracked_ids = [int(i) for i in tracked_ids]
    return out


class FaceDetectorNode(FerLifecycleNode):
    PARAMS = PARAMS
    DIAG_FACES = "faces"

    def __init__(self, node_name: str = "face_detector", **kwargs: Any) -> None:
        super().__init__(node_name, **kwargs)
        self._detector_lock = threading.Lock()
        self._detector: Any = None
        self._pending_detector: Any = None
        self._tracker: FaceTracker | None = None
        self._trusted: list[tuple[int, int, int, int]] = []   # worker thread only
        self._process_timed = self.timed(self._process)
        init_or_destroy(self, self._setup)

    def _setup(self) -> None:
        values = self._declare_params(check_params, self._on_params_changed)
        if values["autostart"]:
            self.bring_up()

    # -- lifecycle -------------------------------------------------------------------------
    def _lc_configure(self) -> None:
        values = {spec.name: self.param(spec.name) for spec in PARAMS}
        self._detector = self._make_detector(values)
        self._pending_detector = None
        self._trusted = []
        self._tracker = (FaceTracker(iou_threshold=values["tracker_iou_threshold"],
                                     max_center_distance=values["tracker_max_center_distance"],
                                     min_hits=values["tracker_min_hits"],
                                     max_misses=values["tracker_max_misses"])
                         if values["tracking"] else None)
        self._pub = self.create_lifecycle_publisher(FaceDetectionArray, "faces",
                                                    make_qos("reliable", 5))
        self.get_logger().info(
            f"configured: {values['detector']} detector (score >= "
            f"{values['score_threshold']}), tracking {'on' if self._tracker else 'off'}")

    def _lc_activate(self) -> None:
        self._subscribe_input(Image, "image_raw", self._on_image)
        self.get_logger().info(f"active: detecting faces on {self._sub.topic_name} -> "
                               f"{self._pub.topic_name}")

    def _lc_cleanup(self) -> None:
        self._release_publisher()
        with self._detector_lock:
            self._detector = self._pending_detector = None
        self._tracker = None

    def diagnostics_values(self) -> list[tuple[str, Any]]:
        return super().diagnostics_values() + [("model", self.param("detector"))]

    @staticmethod
    def _make_detector(values: dict[str, Any]):
        return make_detector(values["detector"], score_threshold=values["score_threshold"],
                             min_face_size=values["min_face_size"],
                             max_faces=values["max_faces"])

    def _on_params_changed(self, changed: dict[str, Any]) -> None:
        if self._detector is None:
            return          # not configured: configure reads the current values
        if {"score_threshold", "min_face_size", "max_faces"} & changed.keys():
            values = {name: self.param(name) for name in
                      ("detector", "score_threshold", "min_face_size", "max_faces")}
            try:
                new = self._make_detector(values)
            except Exception as exc:  # noqa: BLE001 - keep the old detector
                self.get_logger().error(f"cannot rebuild the detector: {exc}")
                return
            with self._detector_lock:
                self._pending_detector = new   # swapped in by the worker, between frames

    # -- processing ------------------------------------------------------------------------
    def _on_image(self, msg: Image) -> None:
        self.count("received")
        self.slot.offer(msg, self._process_timed,
                        lambda exc: self.failed("face detection", exc))

    def _process(self, msg: Image) -> None:
        with self._detector_lock:
            if self._pending_detector is not None:
                self._detector, self._pending_detector = self._pending_detector, None
            detector, tracker, pub = self._detector, self._tracker, self._pub
        if detector is None or pub is None:
            return          # cleaned up meanwhile
        try:
            bgr = image_msg_to_bgr(msg, self.param("max_image_pixels"))
        except ImageEncodingError as exc:
            self.reject(f"image {msg.width}x{msg.height} '{msg.encoding}'", str(exc))
            return
        hint = self._trusted if tracker is not None and self.param("tracking_hint") else None
        detections = detector.detect(bgr, trusted_boxes=hint) if hint else \
            detector.detect(bgr)
        if tracker is not None:
            tracks = tracker.update([(d.x, d.y, d.w, d.h) for d in detections])
            tracked_ids = tracker.confirmed_ids()
            # faces of confirmed tracks: trusted by the detector on the next frame
            self._trusted = [(d.x, d.y, d.w, d.h) for d, t in zip(detections, tracks)
                             if t.confirmed]
        else:
            tracks, tracked_ids = None, []
        pub.publish(detections_to_msg(msg.header, bgr, detections, tracks, tracked_ids))
        self.count("processed")
        self.count("faces", len(detections))


def main(args: list[str] | None = None) -> int:
    return run_node(FaceDetectorNode, args, name="face_detector")


if __name__ == "__main__":
    raise SystemExit(main())
