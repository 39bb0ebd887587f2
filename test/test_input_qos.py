"""Any camera connects: the image inputs (face_detector raw and compressed, annotator) default
to best effort (REP-2003), which a reliable and a best-effort publisher both reach; the
``reliability`` parameter still overrides it. Real rclpy graphs, real message types.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from conftest import Collector, spin_until
from fer_ros.msg import EmotionArray, FaceDetectionArray
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CompressedImage, Image

from fer_ros.ros_image import bgr_to_compressed_msg, bgr_to_image_msg

RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
PUBLISHER_QOS = {
    "best_effort": QoSProfile(depth=5, reliability=ReliabilityPolicy.BEST_EFFORT),
    "reliable": QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE),
}
INPUT = {"raw": (Image, "image_raw"), "compressed": (CompressedImage, "image_raw/compressed")}
FRAME = np.full((240, 320, 3), 90, np.uint8)


def frame_msg(transport: str, index: int):
    """A grey frame as the transport's message, stamped ``index`` seconds."""
    image = (bgr_to_image_msg(FRAME) if transport == "raw"
             else bgr_to_compressed_msg(FRAME))
    image.header.stamp.sec = index
    image.header.frame_id = "camera"
    return image


def publish_until(executor, publish, done, timeout: float = 15.0) -> bool:
    """Publish a frame every 0.2 s (best effort may drop the first ones) until ``done()``."""
    deadline = time.monotonic() + timeout
    index = 0
    while time.monotonic() < deadline and not done():
        index += 1
        publish(index)
        spin_until(executor, done, timeout=0.2)
    return done()


@pytest.mark.parametrize("transport", ["raw", "compressed"])
@pytest.mark.parametrize("publisher_reliability", ["best_effort", "reliable"])
def test_face_detector_answers_any_camera_qos(ros_context, executor, helper_node, transport,
                                              publisher_reliability):
    from fer_ros.nodes.face_detector_node import FaceDetectorNode

    msg_type, topic = INPUT[transport]
    faces = Collector(helper_node, FaceDetectionArray, "faces", RELIABLE)
    camera = helper_node.create_publisher(msg_type, topic,
                                          PUBLISHER_QOS[publisher_reliability])
    detector = FaceDetectorNode(context=ros_context, parameter_overrides=[
        Parameter("image_transport", value=transport)])
    executor.add_node(detector)
    assert detector.param("reliability") == "best_effort"
    assert spin_until(executor, lambda: camera.get_subscription_count() >= 1), \
        f"the detector's {topic} input does not connect to a {publisher_reliability} publisher"
    assert publish_until(executor, lambda i: camera.publish(frame_msg(transport, i)),
                         lambda: len(faces.messages) >= 1), detector.stats()
    assert faces.messages[0].header.frame_id == "camera"


def test_reliability_override_still_applies(ros_context, executor, helper_node):
    """reliability: reliable (the old default) does not match a best-effort camera."""
    from fer_ros.nodes.face_detector_node import FaceDetectorNode

    camera = helper_node.create_publisher(Image, "image_raw", PUBLISHER_QOS["best_effort"])
    reliable_reader = helper_node.create_publisher(Image, "image_raw", RELIABLE)
    detector = FaceDetectorNode(context=ros_context, parameter_overrides=[
        Parameter("reliability", value="reliable")])
    executor.add_node(detector)
    assert spin_until(executor, lambda: reliable_reader.get_subscription_count() >= 1)
    spin_until(executor, lambda: False, timeout=1.0)
    assert camera.get_subscription_count() == 0


@pytest.mark.parametrize("transport", ["raw", "compressed"])
def test_annotator_draws_on_a_best_effort_camera(ros_context, executor, helper_node,
                                                 transport):
    from fer_ros.nodes.annotator_node import AnnotatorNode

    msg_type, topic = INPUT[transport]
    annotated = Collector(helper_node, Image, "image_annotated", RELIABLE)
    camera = helper_node.create_publisher(msg_type, topic, PUBLISHER_QOS["best_effort"])
    results = helper_node.create_publisher(EmotionArray, "emotions", RELIABLE)
    annotator = AnnotatorNode(context=ros_context, parameter_overrides=[
        Parameter("image_transport", value=transport)])
    executor.add_node(annotator)
    assert spin_until(executor, lambda: camera.get_subscription_count() >= 1
                      and results.get_subscription_count() >= 1), \
        f"the annotator's {topic} input does not connect to a best-effort publisher"

    def publish(index):
        frame = frame_msg(transport, index)
        camera.publish(frame)
        results.publish(EmotionArray(header=frame.header))

    assert publish_until(executor, publish, lambda: len(annotated.messages) >= 1), \
        annotator.stats()
