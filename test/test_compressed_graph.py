"""Compressed input on a real rclpy graph: camera (publish_compressed) -> image_raw/compressed
(JPEG) -> face_detector (image_transport: compressed) -> emotion -> emotions, and the
annotator drawing on the compressed frames; corrupt payloads in between are counted as
``rejected`` and skipped.

Uses only the runtime set (the shipped sample clip and int8 model, no scikit-image or
TensorFlow), so ``make runtime-test`` runs it in the TensorFlow-free venv too.
"""

from __future__ import annotations

from conftest import REPO, Collector, spin_until
from fer_ros.msg import EmotionArray
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CompressedImage, Image

from fer_ros.frame_matching import header_key

RELIABLE = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
INT8_MODEL = REPO / "models" / "emotion_cnn_int8.tflite"
N_FRAMES = 8


def test_compressed_camera_stream_reaches_emotions_and_corrupt_payloads_are_skipped(
        ros_context, executor, helper_node):
    from fer_ros.nodes.annotator_node import AnnotatorNode
    from fer_ros.nodes.camera_node import CameraNode
    from fer_ros.nodes.emotion_node import EmotionNode
    from fer_ros.nodes.face_detector_node import FaceDetectorNode

    P = Parameter
    jpegs = Collector(helper_node, CompressedImage, "image_raw/compressed", RELIABLE)
    emotions = Collector(helper_node, EmotionArray, "emotions", RELIABLE)
    annotated = Collector(helper_node, Image, "image_annotated", RELIABLE)
    inject = helper_node.create_publisher(CompressedImage, "image_raw/compressed", RELIABLE)
    detector = FaceDetectorNode(context=ros_context, parameter_overrides=[
        P("image_transport", value="compressed"), P("qos_depth", value=10)])
    emotion = EmotionNode(context=ros_context, parameter_overrides=[
        P("model_path", value=str(INT8_MODEL)), P("qos_depth", value=10)])
    annotator = AnnotatorNode(context=ros_context, parameter_overrides=[
        P("image_transport", value="compressed")])
    for node in (detector, emotion, annotator):
        executor.add_node(node)
    assert detector._sub.topic_name == "/image_raw/compressed"
    assert spin_until(executor, lambda: helper_node.count_subscribers(
        "/image_raw/compressed") >= 3 and helper_node.count_subscribers("/emotions") >= 2)

    # a truncated JPEG before the stream starts: rejected, the node carries on
    def corrupt(data):
        msg = CompressedImage(format="bgr8; jpeg compressed bgr8", data=data)
        msg.header.frame_id = "camera"
        inject.publish(msg)

    corrupt(b"\xff\xd8\xff\xe0" + bytes(500))
    assert spin_until(executor, lambda: detector.stats().get("rejected", 0) == 1), \
        detector.stats()

    camera = CameraNode(context=ros_context, parameter_overrides=[
        P("source", value="sample"), P("publish_compressed", value=True),
        P("loop", value=False), P("max_frames", value=N_FRAMES), P("fps", value=5.0)])
    executor.add_node(camera)
    assert spin_until(executor, lambda: camera.finished.is_set() and len(emotions.messages)
                      >= detector.stats().get("processed", 0) > 0, timeout=60.0), \
        (camera.stats(), detector.stats(), emotion.stats())
    spin_until(executor, lambda: False, timeout=0.5)        # stragglers

    camera_frames = [m for m in jpegs.messages if bytes(m.data[:3]) == b"\xff\xd8\xff" and
                     len(m.data) > 10000]
    assert len(camera_frames) == N_FRAMES
    assert all(m.format == "bgr8; jpeg compressed bgr8" for m in camera_frames)
    assert detector.stats().get("processed", 0) >= 3
    # results belong to the camera's compressed frames, and the sample clip has faces
    keys = {header_key(m.header) for m in camera_frames}
    assert {header_key(m.header) for m in emotions.messages} <= keys
    assert any(m.faces for m in emotions.messages), "no face found in the compressed stream"
    assert spin_until(executor, lambda: len(annotated.messages) >= 1, timeout=10.0), \
        annotator.stats()
    assert all(header_key(m.header) in keys for m in annotated.messages)
    assert (annotated.messages[0].width, annotated.messages[0].height) == (640, 480)

    # corrupt payloads in between (not JPEG, then an empty one), then a good frame again
    before = len(emotions.messages)
    corrupt(b"this is not an image" * 10)
    assert spin_until(executor, lambda: detector.stats().get("rejected", 0) == 2)
    corrupt(b"")
    assert spin_until(executor, lambda: detector.stats().get("rejected", 0) == 3)
    inject.publish(camera_frames[-1])
    assert spin_until(executor, lambda: len(emotions.messages) == before + 1), \
        detector.stats()
    assert detector.stats().get("failed", 0) == 0 and emotion.stats().get("failed", 0) == 0
