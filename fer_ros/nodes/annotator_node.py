"""annotator node: image_raw + emotions -> image_annotated (+ /compressed).

``image_transport: compressed`` reads the frames as sensor_msgs/CompressedImage from
``image_raw/compressed`` (see :mod:`fer_ros.ros_image`).

Frames and results are matched by header (stamp + frame_id): the node keeps a small bounded
buffer of recent frames (and of results that arrived before their frame), so the overlay
drawn on a frame is always the result *for that frame*. A frame whose result never comes
(dropped upstream under load) is evicted unpublished; a frame with zero faces is published
as soon as its (empty) result arrives.

Nothing is drawn, encoded or published while neither output has a subscriber (counted as
``skipped_no_subscribers``), and each output is only built when it has one.

``dropped`` counts the camera's frames that got no annotated image here: lost before the
node took them (gaps in the camera's sequence numbers, see fer_ros.nodes) or evicted without
a result (``frames_unmatched``).

Outputs are RELIABLE (they serve reliable and best-effort subscribers, e.g. rqt_image_view):
  image_annotated             sensor_msgs/Image, bgr8, header of the source frame
  image_annotated/compressed  sensor_msgs/CompressedImage, JPEG ("bgr8; jpeg compressed bgr8")
"""

from __future__ import annotations

from typing import Any

from sensor_msgs.msg import CompressedImage, Image

from fer_ros.budget import max_image_pixels_spec, oversized_image
from fer_ros.diagnostics import check_thresholds, diagnostics_specs
from fer_ros.drawing import AnnotatedFace, draw_faces_counted
from fer_ros.frame_matching import FrameMatcher, header_key
from fer_ros.msg import EmotionArray
from fer_ros.nodes.base import FerNode, init_or_destroy
from fer_ros.nodes.runner import run, serve
from fer_ros.parameters import (
    GRAPH_INPUT_RELIABILITY,
    ParamSpec,
    check_values,
    make_qos,
    subscription_specs,
)
from fer_ros.ros_image import (
    IMAGE_TRANSPORT_PARAM,
    ImageEncodingError,
    bgr_to_compressed_msg,
    bgr_to_image_msg,
    describe_image,
    image_input,
)

#: topics (relative names) -> message type
PUBLISHES = {"image_annotated": "sensor_msgs/msg/Image",
             "image_annotated/compressed": "sensor_msgs/msg/CompressedImage"}
SUBSCRIBES = {"image_raw": "sensor_msgs/msg/Image",
              "image_raw/compressed": "sensor_msgs/msg/CompressedImage",
              "emotions": "fer_ros/msg/EmotionArray"}

PARAMS = (
    ParamSpec("frame_buffer_bytes", 128 * 2**20, "Bytes of recent frames kept while "
              "waiting for their emotions (at least the newest frame); when over, frames are "
              "thinned evenly over time (fer_ros.frame_matching).", read_only=True,
              min=1, max=2**40),
    ParamSpec("result_buffer_size", 30, "Emotion results kept while waiting for their frame "
              "(when a result arrives before its image).", read_only=True, min=1, max=1000),
    ParamSpec("publish_compressed", True, "Also publish image_annotated/compressed (JPEG).",
              read_only=True),
    ParamSpec("jpeg_quality", 80, "JPEG quality of image_annotated/compressed.",
              min=1, max=100),
    ParamSpec("output_qos_depth", 2, "History depth of the (reliable) outputs.",
              read_only=True, min=1, max=100),
    IMAGE_TRANSPORT_PARAM,
    max_image_pixels_spec("image_raw frames"),
) + (subscription_specs(sensor_input=True, default_depth=5)
     + diagnostics_specs(warn_ms=50.0, error_ms=200.0))


def check_params(values: dict[str, Any]) -> list[str]:
    """Pure validation of the annotator parameters (complete or partial set)."""
    return check_values(PARAMS, values) + check_thresholds(values)


def annotated_faces(emotions: EmotionArray) -> list[AnnotatedFace]:
    return [AnnotatedFace(box=(int(f.box.x_offset), int(f.box.y_offset),
                               int(f.box.width), int(f.box.height)),
                          label=f.label, confidence=float(f.confidence),
                          face_id=int(f.face_id))
            for f in emotions.faces]


class AnnotatorNode(FerNode):
    PARAMS = PARAMS
    DIAG_INPUT = "frames_received"
    DIAG_OUTPUT = "published"
    DIAG_DROPPED = "dropped"

    def __init__(self, node_name: str = "annotator", **kwargs: Any) -> None:
        super().__init__(node_name, **kwargs)
        self._annotate_timed = self.timed(lambda pair: self._annotate(*pair))
        init_or_destroy(self, self._setup)

    def _setup(self) -> None:
        values = self._declare_params(check_params)
        self.matcher = FrameMatcher(values["frame_buffer_bytes"], values["result_buffer_size"])
        out_qos = make_qos("reliable", values["output_qos_depth"])
        self._image_pub = self.create_publisher(Image, "image_annotated", out_qos)
        self._jpeg_pub = (self.create_publisher(CompressedImage, "image_annotated/compressed",
                                                make_qos("reliable",
                                                         values["output_qos_depth"]))
                          if values["publish_compressed"] else None)
        in_qos = make_qos(values["reliability"], values["qos_depth"])
        image = image_input(values["image_transport"], values["max_image_pixels"])
        self._to_bgr = image.to_bgr
        self._image_sub = self.create_frame_subscription(
            image.msg_type, self.resolve_topic_name("image_raw") + image.suffix,
            self._on_image, in_qos)
        # `reliability` is the image input's; the emotions come from fer_ros (reliable)
        self._emotion_sub = self.create_subscription(
            EmotionArray, "emotions", self._on_emotions,
            make_qos(GRAPH_INPUT_RELIABILITY, values["qos_depth"]))
        self.get_logger().info(
            f"drawing {self._emotion_sub.topic_name} on {self._image_sub.topic_name} -> "
            f"{self._image_pub.topic_name}"
            + (f" + {self._jpeg_pub.topic_name}" if self._jpeg_pub else ""))

    def _on_image(self, msg: Any) -> None:
        self.count("frames_received")
        # a raw frame is refused before it is buffered; a compressed one is small until
        # decoded, and its decoder refuses it then
        too_big = isinstance(msg, Image) and oversized_image(
            msg.width, msg.height, self.param("max_image_pixels"))
        if too_big:
            self.reject(describe_image(msg), too_big)
            return
        pair = self.matcher.add_frame(header_key(msg.header), msg)
        if pair is not None:
            self._output(pair)

    def _on_emotions(self, msg: EmotionArray) -> None:
        self.count("results_received")
        pair = self.matcher.add_result(header_key(msg.header), msg)
        if pair is not None:
            self._output(pair)

    def _output(self, pair) -> None:
        """Draw + publish a matched pair, unless nobody subscribes to either output (then
        converting, drawing and JPEG-encoding would be wasted: counted as skipped)."""
        if self._image_pub.get_subscription_count() == 0 and (
                self._jpeg_pub is None or self._jpeg_pub.get_subscription_count() == 0):
            self.count("skipped_no_subscribers")
            return
        self._annotate_timed(pair)

    def _annotate(self, frame: Any, emotions: EmotionArray) -> None:
        try:
            bgr = self._to_bgr(frame)
        except ImageEncodingError as exc:
            self.reject(describe_image(frame), str(exc))
            return
        try:
            out, skipped = draw_faces_counted(bgr, annotated_faces(emotions))
            if skipped:
                self.count("faces_skipped", skipped)
            if self._image_pub.get_subscription_count() > 0:
                self._image_pub.publish(bgr_to_image_msg(out, frame.header))
            if self._jpeg_pub is not None and self._jpeg_pub.get_subscription_count() > 0:
                self._jpeg_pub.publish(bgr_to_compressed_msg(
                    out, frame.header, quality=int(self.param("jpeg_quality"))))
        except Exception as exc:  # noqa: BLE001 - keep running, report it
            self.failed("annotation", exc)
            return
        self.count("published")

    def stats(self) -> dict[str, Any]:
        out = super().stats()
        out["frames_unmatched"] = self.matcher.frames_evicted
        out["dropped"] += self.matcher.frames_evicted
        out["results_unmatched"] = self.matcher.results_evicted
        return out


def main(argv: list[str] | None = None) -> int:
    return run("annotator", serve(AnnotatorNode), argv)


if __name__ == "__main__":
    raise SystemExit(main())
