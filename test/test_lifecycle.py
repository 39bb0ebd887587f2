"""face_detector and emotion are managed (lifecycle) nodes: on a real graph, driven through
the lifecycle services (what `ros2 lifecycle set` calls) and the trigger_* methods."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO, Collector, composite_frame, spin_until
from fer_ros.msg import EmotionArray, FaceDetection, FaceDetectionArray
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy

RELIABLE = QoSProfile(depth=20, reliability=ReliabilityPolicy.RELIABLE)


def faces_msg(sec):
    from fer_ros.ros_image import bgr_to_image_msg

    msg = FaceDetectionArray()
    msg.header.stamp.sec = sec
    face = FaceDetection()
    face.id = 1
    face.box.width = face.box.height = 40
    msg.faces.append(face)
    msg.crops.append(bgr_to_image_msg(np.full((40, 40, 3), 120, np.uint8)))
    return msg


class LifecycleClient:
    """What `ros2 lifecycle set/get` does: the node's change_state / get_state services."""

    def __init__(self, helper, executor, node_name):
        from lifecycle_msgs.srv import ChangeState, GetState

        self.executor = executor
        self.change = helper.create_client(ChangeState, f"/{node_name}/change_state")
        self.get = helper.create_client(GetState, f"/{node_name}/get_state")
        assert spin_until(executor, lambda: self.change.service_is_ready()
                          and self.get.service_is_ready())

    def _call(self, client, request):
        future = client.call_async(request)
        assert spin_until(self.executor, future.done, timeout=30)
        return future.result()

    def set(self, label: str) -> bool:
        from lifecycle_msgs.srv import ChangeState

        req = ChangeState.Request()
        req.transition.label = label
        return self._call(self.change, req).success

    def state(self) -> str:
        from lifecycle_msgs.srv import GetState

        return self._call(self.get, GetState.Request()).current_state.label


def test_emotion_node_lifecycle_through_the_services(ros_context, executor, helper_node,
                                                     emotion_model, tmp_path, capfd):
    from fer_ros.nodes.emotion_node import EmotionNode

    missing = tmp_path / "missing_model.tflite"
    node = EmotionNode(context=ros_context, parameter_overrides=[
        Parameter("autostart", value=False), Parameter("model_path", value=str(missing))])
    executor.add_node(node)
    lc = LifecycleClient(helper_node, executor, "emotion")
    pub = helper_node.create_publisher(FaceDetectionArray, "faces", RELIABLE)
    out = Collector(helper_node, EmotionArray, "emotions", RELIABLE)

    # unconfigured: no model, nothing on its topics
    assert lc.state() == "unconfigured" and node.classifier is None
    spin_until(executor, lambda: False, timeout=0.3)
    assert node.count_publishers("/emotions") == 0 and node.count_subscribers("/faces") == 0

    # configure with a missing model: fails, clear log naming the path, still alive
    assert lc.set("configure") is False
    assert lc.state() == "unconfigured"
    assert "missing_model.tflite" in str(node.transition_error)
    assert "configure failed: emotion model not found" in capfd.readouterr().err

    # put the model in place (model_path is read-only), configure again
    missing.write_bytes(emotion_model.read_bytes())
    (tmp_path / "missing_model.tflite.json").write_bytes(
        emotion_model.with_name(emotion_model.name + ".json").read_bytes())
    assert lc.set("configure") is True and lc.state() == "inactive"
    assert node.classifier is not None
    assert spin_until(executor, lambda: node.count_publishers("/emotions") == 1)
    assert node.count_subscribers("/faces") == 0        # inactive: not subscribed yet

    # activate -> processes and publishes
    assert lc.set("activate") is True and lc.state() == "active"
    assert spin_until(executor, lambda: pub.get_subscription_count() >= 1)
    pub.publish(faces_msg(1))
    assert spin_until(executor, lambda: len(out.messages) >= 1)
    assert out.messages[0].header.stamp.sec == 1

    # deactivate -> unsubscribed, nothing published any more
    assert lc.set("deactivate") is True and lc.state() == "inactive"
    assert spin_until(executor, lambda: pub.get_subscription_count() == 0)
    processed = node.stats()["processed"]
    pub.publish(faces_msg(2))
    spin_until(executor, lambda: False, timeout=0.5)
    assert len(out.messages) == 1 and node.stats()["processed"] == processed

    # cleanup -> model and publisher released
    assert lc.set("cleanup") is True and lc.state() == "unconfigured"
    assert node.classifier is None
    assert spin_until(executor, lambda: node.count_publishers("/emotions") == 0)

    # configure + activate again: works as the first time
    assert lc.set("configure") is True and lc.set("activate") is True
    assert spin_until(executor, lambda: pub.get_subscription_count() >= 1)
    pub.publish(faces_msg(3))
    assert spin_until(executor, lambda: len(out.messages) >= 2)
    assert out.messages[-1].header.stamp.sec == 3

    # shutdown from active: finalized, everything released
    assert lc.set("shutdown") is True and lc.state() == "finalized"
    assert node.classifier is None


def test_detector_lifecycle_with_trigger_methods(ros_context, executor, helper_node,
                                                 astronaut_bgr):
    from sensor_msgs.msg import Image

    from fer_ros.nodes.face_detector_node import FaceDetectorNode
    from fer_ros.ros_image import bgr_to_image_msg

    node = FaceDetectorNode(context=ros_context,
                            parameter_overrides=[Parameter("autostart", value=False)])
    executor.add_node(node)
    assert node.lifecycle_state == "unconfigured" and node._search is None
    assert node.count_publishers("/faces") == 0 and node.count_subscribers("/image_raw") == 0
    pub = helper_node.create_publisher(Image, "image_raw", RELIABLE)
    faces = Collector(helper_node, FaceDetectionArray, "faces", RELIABLE)
    frame, _ = composite_frame(astronaut_bgr, [(40, 100)])

    def send(sec):
        msg = bgr_to_image_msg(frame)
        msg.header.stamp.sec = sec
        pub.publish(msg)

    node.bring_up()                                     # trigger_configure + trigger_activate
    assert node.lifecycle_state == "active" and node._search is not None
    assert spin_until(executor, lambda: pub.get_subscription_count() >= 1
                      and node.count_subscribers("/faces") >= 1)
    send(1)
    assert spin_until(executor, lambda: len(faces.messages) >= 1, timeout=20)
    assert len(faces.messages[0].faces) == 1

    from rclpy.lifecycle import TransitionCallbackReturn as R

    assert node.trigger_deactivate() == R.SUCCESS
    assert spin_until(executor, lambda: pub.get_subscription_count() == 0)
    send(2)
    spin_until(executor, lambda: False, timeout=0.5)
    assert len(faces.messages) == 1
    assert node.trigger_cleanup() == R.SUCCESS
    assert node._search is None
    assert spin_until(executor, lambda: node.count_publishers("/faces") == 0)
    # an invalid transition is refused, the state is kept
    assert node.trigger_activate() != R.SUCCESS and node.lifecycle_state == "unconfigured"
    node.bring_up()
    assert spin_until(executor, lambda: pub.get_subscription_count() >= 1)
    send(3)
    assert spin_until(executor, lambda: len(faces.messages) >= 2, timeout=20)
    assert faces.messages[-1].header.stamp.sec == 3


def test_a_transition_invalid_in_the_state_is_refused_and_the_node_lives_on(
        ros_context, executor, helper_node):
    """Jazzy's rclpy raises RCLError where Kilted's returns ERROR (FerLifecycleNode's one
    override): trigger_* return ERROR, bring_up names the state, and a change_state request
    that gives only the transition id is answered "failed" instead of ending the spin."""
    from lifecycle_msgs.msg import Transition
    from lifecycle_msgs.srv import ChangeState
    from rclpy.lifecycle import TransitionCallbackReturn as R

    from fer_ros.nodes.face_detector_node import FaceDetectorNode
    from fer_ros.nodes.lifecycle import TransitionFailed

    node = FaceDetectorNode(context=ros_context)             # autostart: active
    executor.add_node(node)
    assert node.trigger_configure() == R.ERROR and node.lifecycle_state == "active"
    with pytest.raises(TransitionFailed, match=r"configure failed: .*\(state active\)"):
        node.bring_up()
    lc = LifecycleClient(helper_node, executor, "face_detector")
    request = ChangeState.Request()
    request.transition.id = Transition.TRANSITION_CONFIGURE  # no label: rclpy goes by the id
    future = lc.change.call_async(request)
    assert spin_until(executor, future.done, timeout=30)
    assert future.result().success is False
    assert lc.state() == "active"
    assert node.trigger_deactivate() == R.SUCCESS and node.trigger_deactivate() == R.ERROR
    assert node.lifecycle_state == "inactive"


def test_autostart_reaches_active_and_a_failure_raises_the_cause(ros_context, tmp_path):
    from fer_ros.emotion_classifier import ModelLoadError
    from fer_ros.nodes.emotion_node import EmotionNode
    from fer_ros.nodes.face_detector_node import FaceDetectorNode

    det = FaceDetectorNode(context=ros_context)
    try:
        assert det.lifecycle_state == "active"
        assert det.describe_parameter("autostart").read_only
    finally:
        det.destroy_node()
    with pytest.raises(ModelLoadError, match="nothing_here.tflite"):
        EmotionNode(context=ros_context, parameter_overrides=[
            Parameter("model_path", value=str(tmp_path / "nothing_here.tflite"))])


def test_pipeline_brings_managed_nodes_to_active(ros_context, emotion_model):
    from fer_ros.pipeline import Pipeline

    pipe = Pipeline(None, {"emotion": {"model_path": str(emotion_model),
                                       "autostart": True}},
                    context=ros_context, nodes=("face_detector", "emotion"))
    try:
        assert pipe.nodes["face_detector"].lifecycle_state == "active"
        assert pipe.nodes["emotion"].lifecycle_state == "active"
    finally:
        pipe.destroy()


def test_pipeline_exits_1_when_a_transition_fails(tmp_path):
    missing = tmp_path / "gone" / "emotion.tflite"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "fer_ros.pipeline", "--model", str(missing),
                           "--no-loop", "--exit-on-end"],
                          capture_output=True, text=True, timeout=120, cwd=str(tmp_path),
                          env=env)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "emotion: configure failed" in proc.stderr and str(missing) in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
