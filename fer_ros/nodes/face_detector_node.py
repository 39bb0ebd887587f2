"""face_detector node: image_raw -> faces (fer_ros/FaceDetectionArray).

``image_transport: compressed`` reads sensor_msgs/CompressedImage (JPEG / PNG) from
``image_raw/compressed`` instead (see :mod:`fer_ros.ros_image`).

Newest frame first: the input history is KEEP_LAST with ``qos_depth`` 1 by default, so while
the node is busy with a frame only the newest one waits; the frames overwritten there are
counted as ``dropped`` (gaps in the camera's sequence numbers, see fer_ros.message_loss). The
latency therefore does not grow when frames arrive faster than they can be processed.

Malformed images (unknown encoding, step/size mismatch, zero size) are rejected: counted as
``rejected``, logged with a throttle, and the node goes on with the next frame.

A managed (lifecycle) node: ``configure`` builds the face search
(:mod:`fer_ros.face_tracking.search`: the detector with its model, the tracker, the search
schedule, the worker thread the full search runs on beside the per-frame close-ups) and
creates the ``faces`` lifecycle publisher, ``activate`` subscribes to ``image_raw``,
``deactivate`` unsubscribes, ``cleanup`` ends the worker and releases the face search and the
publisher. With ``autostart`` (default) it goes to active by itself.
"""

from __future__ import annotations

from typing import Any

from fer_ros.budget import max_image_pixels_spec
from fer_ros.diagnostics import check_thresholds, diagnostics_specs
from fer_ros.face_tracking.search import (
    SEARCH_PARAMS,
    check_search_params,
    make_face_detector,
    make_face_search,
    needs_search_detector,
)
from fer_ros.messages import detections_to_msg, stamp_seconds
from fer_ros.msg import FaceDetectionArray
from fer_ros.nodes.lifecycle import FerLifecycleNode
from fer_ros.nodes.runner import run, serve
from fer_ros.parameters import (
    ParamSpec,
    check_values,
    lifecycle_specs,
    make_qos,
    subscription_specs,
)
from fer_ros.ros_image import IMAGE_TRANSPORT_PARAM, ImageEncodingError, describe_image, image_input

#: topics (relative names) -> message type
PUBLISHES = {"faces": "fer_ros/msg/FaceDetectionArray"}
SUBSCRIBES = {"image_raw": "sensor_msgs/msg/Image",
              "image_raw/compressed": "sensor_msgs/msg/CompressedImage"}

BOX_CROPS_PARAM = ParamSpec(
    "box_crops", False, "Also send each face's plain box crop (FaceDetectionArray.box_crops), "
    "which the emotion node publishes as /humans/faces/<id>/cropped with its hri output.")

PARAMS = (SEARCH_PARAMS + (IMAGE_TRANSPORT_PARAM, max_image_pixels_spec("image_raw frames"),
                           BOX_CROPS_PARAM)
          + subscription_specs(sensor_input=True, default_depth=1) + lifecycle_specs()
          + diagnostics_specs())


def check_params(values: dict[str, Any]) -> list[str]:
    """Pure validation of the face_detector parameters (complete or partial set)."""
    return check_values(PARAMS, values) + check_thresholds(values) + check_search_params(values)


class FaceDetectorNode(FerLifecycleNode):
    PARAMS = PARAMS
    DIAG_FACES = "faces"
    WORK = "face detection"

    def __init__(self, node_name: str = "face_detector", **kwargs: Any) -> None:
        super().__init__(node_name, **kwargs)
        self._search: Any = None     # fer_ros.face_tracking.search.FaceSearch: detector + tracker
        self._start(check_params, self._on_params_changed)

    # -- lifecycle -------------------------------------------------------------------------
    def _lc_configure(self) -> None:
        values = self.param_values()
        self._search = make_face_search(values)
        self._pub = self.create_lifecycle_publisher(FaceDetectionArray, "faces",
                                                    make_qos("reliable", 5))
        self.get_logger().info(
            f"configured: {values['detector']} detector (score >= "
            f"{values['score_threshold']}), tracking {'on' if values['tracking'] else 'off'}, "
            + ("full search on every frame" if self._search.every_frame else
               f"full search beside the close-ups, at most {values['max_search_share']:g} of "
               "a core"))

    def _lc_activate(self) -> None:
        image = image_input(self.param("image_transport"), self.param("max_image_pixels"))
        self._to_bgr = image.to_bgr
        self._subscribe_input(image.msg_type, self.resolve_topic_name("image_raw") + image.suffix)
        self.get_logger().info(f"active: detecting faces on {self._sub.topic_name} -> "
                               f"{self._pub.topic_name}")

    def _lc_cleanup(self) -> None:
        self._release_publisher()
        if self._search is not None:
            self._search.close()
        self._search = None

    def diagnostics_values(self) -> list[tuple[str, Any]]:
        return super().diagnostics_values() + [("model", self.param("detector"))]

    def _on_params_changed(self, changed: dict[str, Any]) -> None:
        if self._search is None:
            return          # not configured: configure reads the current values
        if "max_search_share" in changed:
            self._search.max_search_share = changed["max_search_share"]
        if {"score_threshold", "min_face_size", "max_faces"} & changed.keys():
            values = {name: self.param(name) for name in
                      ("detector", "score_threshold", "min_face_size", "max_faces",
                       "search_interval_ms")}
            try:
                new = make_face_detector(values)
                # the worker gets a detector of its own (interpreters are never shared)
                beside = make_face_detector(values) if needs_search_detector(values) else None
            except Exception as exc:  # noqa: BLE001 - keep the old detector
                self.get_logger().error(f"cannot rebuild the detector: {exc}")
                return
            # parameter callbacks run between frames
            self._search.replace_detector(new, beside)

    # -- processing ------------------------------------------------------------------------
    def _process(self, msg: Any) -> None:
        search, pub = self._search, self._pub
        try:
            bgr = self._to_bgr(msg)
        except ImageEncodingError as exc:
            self.reject(describe_image(msg), str(exc))
            return
        out = search.process(bgr, stamp_seconds(msg.header))
        pub.publish(detections_to_msg(msg.header, bgr, out.detections, out.tracks,
                                      out.tracked_ids, box_crops=self.param("box_crops")))
        self.count("processed")
        self.count("faces", len(out.detections))


def main(argv: list[str] | None = None) -> int:
    return run("face_detector", serve(FaceDetectorNode), argv)


if __name__ == "__main__":
    raise SystemExit(main())
