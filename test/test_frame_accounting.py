"""Honest counters on real rclpy graphs: a camera below its rate says so, and every frame the
camera published and that got no answer is counted as dropped by some node, the same in
``stats()``, on /diagnostics and in the demo's summary."""

from __future__ import annotations

import io
import threading
import time

import pytest
from conftest import Collector, spin_until
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy

RELIABLE = QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE)
READ_S = 0.05          # the slow source: every read takes this long, so <= 20 frames/s


def values_of(status) -> dict[str, str]:
    return {kv.key: kv.value for kv in status.values}


def statuses(diags, name):
    return [s for m in diags.messages for s in m.status if s.name == name]


def test_a_camera_that_cannot_keep_its_rate_says_so(ros_context, executor, helper_node,
                                                    monkeypatch):
    from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
    from rcl_interfaces.msg import Log

    from fer_ros import sources
    from fer_ros.nodes import camera_node

    real_open = camera_node.open_source

    class SlowSource(sources.FrameSource):
        """The sample clip behind a slow reader (a sluggish device or decoder)."""

        def __init__(self, inner):
            super().__init__(inner.description + " (slow)")
            self.inner = inner

        def _read_raw(self):
            time.sleep(READ_S)
            return self.inner.read()

        def reopen(self):
            self.inner.reopen()

        def close(self):
            self.inner.close()

    monkeypatch.setattr(camera_node, "open_source",
                        lambda spec, *args: SlowSource(real_open(spec, *args)))
    diags = Collector(helper_node, DiagnosticArray, "/diagnostics", RELIABLE)
    logs = Collector(helper_node, Log, "/rosout", RELIABLE)
    common = [Parameter("diagnostics_period_s", value=0.2),
              Parameter("rate_window_s", value=0.5),
              Parameter("processing_time_warn_ms", value=1000.0),   # only the rate counts
              Parameter("processing_time_error_ms", value=2000.0)]
    slow = camera_node.CameraNode(namespace="slow", context=ros_context,
                                  parameter_overrides=common + [Parameter("fps", value=100.0)])
    # the control: the same slow source asked for a rate it can keep
    steady = camera_node.CameraNode(namespace="steady", context=ros_context,
                                    parameter_overrides=common + [Parameter("fps", value=5.0)])
    executor.add_node(slow)
    executor.add_node(steady)

    def warned():
        return [s for s in statuses(diags, "fer_ros: slow/camera")
                if s.level == DiagnosticStatus.WARN]

    assert spin_until(executor, lambda: warned() and any(
        "below the requested" in m.msg for m in logs.messages if m.name == "slow.camera"),
        timeout=20), [(s.name, s.level, s.message) for m in diags.messages for s in m.status]
    status = warned()[-1]
    assert "below the requested 100" in status.message, status.message
    values = values_of(status)
    assert values["requested_rate_hz"] == "100"
    assert 0 < float(values["achieved_rate_hz"]) <= 1 / READ_S + 1e-6
    [line] = {m.msg for m in logs.messages if m.name == "slow.camera"
              and m.level == Log.WARN and "below the requested" in m.msg}   # throttled: 1
    assert line.startswith("publishing ")

    # the steady camera (5 of its possible 20 frames/s) is judged after its 4 s window
    # (20 periods) and found OK
    assert spin_until(executor, lambda: any(
        values_of(s)["achieved_rate_hz"] != "nan"
        for s in statuses(diags, "fer_ros: steady/camera")), timeout=20)
    judged = [s for s in statuses(diags, "fer_ros: steady/camera")
              if values_of(s)["achieved_rate_hz"] != "nan"]
    assert judged[-1].level == DiagnosticStatus.OK, judged[-1].message
    assert abs(float(values_of(judged[-1])["achieved_rate_hz"]) - 5.0) < 0.5
    assert not [m for m in logs.messages if m.name == "steady.camera" and m.level == Log.WARN]


def test_dropped_is_published_minus_answered_everywhere(ros_context, executor, helper_node,
                                                       emotion_model):
    """Camera in its own thread (as in its own process), a face_detector that stays busy
    until two more frames were published, emotion, and the demo's listener: the frames lost
    in the detector's depth-1 history are counted, and published - answered equals what the
    nodes count, in stats(), on /diagnostics and in the demo's summary."""
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.executors import SingleThreadedExecutor

    from fer_ros import demo, sample_clip
    from fer_ros.message_loss import ANSWER_CHAIN, account_frames
    from fer_ros.nodes.camera_node import CameraNode
    from fer_ros.nodes.emotion_node import EmotionNode
    from fer_ros.nodes.face_detector_node import FaceDetectorNode

    if not sample_clip.sample_clip_path().is_file():
        pytest.skip("sample clip not shipped")
    n = 30
    diag = [Parameter("diagnostics_period_s", value=0.2)]
    camera = CameraNode(context=ros_context, parameter_overrides=diag + [
        Parameter("source", value="sample"), Parameter("fps", value=30.0),
        Parameter("loop", value=False), Parameter("max_frames", value=n),
        Parameter("wait_for_subscribers", value=1)])
    detector = FaceDetectorNode(context=ros_context, parameter_overrides=diag)
    emotion = EmotionNode(context=ros_context, parameter_overrides=diag + [
        Parameter("model_path", value=str(emotion_model))])
    listener = demo.DemoListener(ros_context, "", "", quiet=True, out=io.StringIO())
    diags = Collector(helper_node, DiagnosticArray, "/diagnostics", RELIABLE)
    for node in (detector, emotion, listener.node):
        executor.add_node(node)
    real = detector._search.detector.detect

    def busy_detect(bgr, **kwargs):
        target = camera.stats()["published"] + 2
        deadline = time.monotonic() + 10
        while camera.stats()["published"] < target and not camera.finished.is_set() \
                and time.monotonic() < deadline:
            time.sleep(0.002)
        return real(bgr, **kwargs)

    detector._search.detector.detect = busy_detect
    assert spin_until(executor, lambda: detector.count_subscribers("/faces") >= 1
                      and emotion.count_subscribers("/emotions") >= 1)
    camera_executor = SingleThreadedExecutor(context=ros_context)
    camera_executor.add_node(camera)
    camera_thread = threading.Thread(target=camera_executor.spin, daemon=True)
    camera_thread.start()
    try:
        def drained():
            det, emo = detector.stats(), emotion.stats()
            return camera.finished.is_set() and \
                det.get("received", 0) + det.get("dropped", 0) == n and \
                emo.get("processed", 0) == det.get("processed", 0) == \
                len(listener.emotion_latency)
        assert spin_until(executor, drained, timeout=60), (camera.stats(), detector.stats(),
                                                          emotion.stats())
        spin_until(executor, lambda: False, timeout=0.5)   # nothing else is on its way
    finally:
        camera_executor.shutdown(timeout_sec=2.0)
        camera_thread.join(5)
    stats = {"camera": camera.stats(), "face_detector": detector.stats(),
             "emotion": emotion.stats()}
    answered = len(listener.emotion_latency)

    # ---- stats(): the frames the detector never took are the dropped ones
    assert stats["camera"]["published"] == n
    assert stats["face_detector"]["dropped"] > 0 and stats["face_detector"]["dropped_measured"]
    account = account_frames(n, answered, stats)
    assert account.measured and account.dropped == n - answered > 0
    assert account.accounted == account.dropped, account

    # ---- /diagnostics: the same totals, once a window after the last frame was published
    def last_values(name):
        found = statuses(diags, f"fer_ros: {name}")
        return values_of(found[-1]) if found else {}

    def diagnostics_caught_up():
        return all(last_values(name).get("total_received") == str(stats[name]["received"])
                   for name in ANSWER_CHAIN) and \
            last_values("camera").get("total_published") == str(n)
    assert spin_until(executor, diagnostics_caught_up, timeout=10)
    from_diagnostics = sum(int(last_values(name)[key])
                           for name in ANSWER_CHAIN
                           for key in ("dropped_frames", "total_rejected", "total_failed")
                           if key in last_values(name))
    assert from_diagnostics == n - answered
    assert last_values("face_detector")["dropped_frames"] == \
        str(stats["face_detector"]["dropped"])
    assert last_values("emotion")["total_processed"] == str(answered)

    # ---- the demo's summary says the same
    text = demo.summary(stats, listener, 1.0, camera.end_reason, camera.rate_keeping)
    assert f"{n} published, {answered} answered, {n - answered} dropped" in text, text
    assert f"face_detector {stats['face_detector']['dropped']} dropped" in text, text
    assert "(all accounted for)" in text, text
    camera.destroy_node()
    listener.close()


def test_without_sequence_numbers_the_drops_are_unknown_not_zero(ros_context, executor,
                                                                 helper_node, astronaut_bgr,
                                                                 monkeypatch):
    """Humble's rclpy passes no MessageInfo: the nodes cannot count their lost messages and
    say so (stats, /diagnostics, the demo's summary) instead of reporting 0."""
    from conftest import composite_frame
    from diagnostic_msgs.msg import DiagnosticArray
    from sensor_msgs.msg import Image

    from fer_ros import demo
    from fer_ros.nodes import base
    from fer_ros.nodes.face_detector_node import FaceDetectorNode
    from fer_ros.ros_image import bgr_to_image_msg

    monkeypatch.setattr(base, "message_info_supported", lambda: False)
    detector = FaceDetectorNode(context=ros_context, parameter_overrides=[
        Parameter("diagnostics_period_s", value=0.2)])
    executor.add_node(detector)
    pub = helper_node.create_publisher(Image, "image_raw", RELIABLE)
    diags = Collector(helper_node, DiagnosticArray, "/diagnostics", RELIABLE)
    assert spin_until(executor, lambda: pub.get_subscription_count() >= 1)
    frame, _ = composite_frame(astronaut_bgr, [(40, 100)])
    pub.publish(bgr_to_image_msg(frame))

    def reported():
        found = statuses(diags, "fer_ros: face_detector")
        return found and values_of(found[-1]).get("total_received") == "1"
    assert spin_until(executor, reported, timeout=20)
    values = values_of(statuses(diags, "fer_ros: face_detector")[-1])
    assert values["dropped_frames"] == "unknown" == values["dropped_frames_in_window"]
    stats = detector.stats()
    assert stats["dropped_measured"] is False and stats["processed"] == 1
    lines = demo.frames_lines({"camera": {"published": 1}, "face_detector": stats,
                               "emotion": {"dropped": 0, "dropped_measured": True}}, 1)
    assert "unknown" in lines[1], lines
