"""/diagnostics: the ROS-free level computation (fer_ros.diagnostics) and the publisher in
the node base on a real graph."""

from __future__ import annotations

import math

import pytest

from fer_ros.diagnostics import (
    ERROR,
    OK,
    WARN,
    DiagnosticsTracker,
    ProcessingTimes,
    RateKeeping,
    Thresholds,
    Window,
    check_thresholds,
    diagnostics_specs,
    evaluate,
    percentile,
)

T = Thresholds(processing_time_warn_ms=50.0, processing_time_error_ms=200.0,
               min_input_rate_hz=0.0, stale_input_s=5.0)


def window(times_ms=(10.0,), deltas=None, seconds=1.0, idle_s=0.0):
    return Window(seconds=seconds, deltas=dict(deltas or {"received": 30, "processed": 30}),
                  times_ms=list(times_ms), idle_s=idle_s)


# ---------------------------------------------------------------------------- pure part
@pytest.mark.parametrize("mean_ms, level", [
    (0.0, OK), (49.99, OK), (50.0, WARN), (199.9, WARN), (200.0, ERROR), (1e4, ERROR)])
def test_processing_time_levels_at_the_thresholds(mean_ms, level):
    got, message = evaluate(window([mean_ms]), T)
    assert got == level
    if level != OK:
        assert "processing time" in message and f"{mean_ms:.1f}" in message


def test_level_uses_the_mean_of_the_window():
    assert evaluate(window([10.0, 10.0, 129.0]), T)[0] == OK         # mean 49.67, max 129
    assert evaluate(window([10.0, 10.0, 130.0]), T)[0] == WARN       # mean 50
    assert evaluate(window([]), T) == (OK, "ok")                     # nothing processed


def test_zero_thresholds_disable_the_check():
    off = Thresholds(processing_time_warn_ms=0.0, processing_time_error_ms=0.0)
    assert evaluate(window([1e6]), off)[0] == OK


@pytest.mark.parametrize("idle_s, level", [(0.0, OK), (4.99, OK), (5.0, WARN), (60.0, WARN)])
def test_stale_input_warns(idle_s, level):
    got, message = evaluate(window(idle_s=idle_s), T)
    assert got == level
    if level == WARN:
        assert "no input for" in message
    assert evaluate(window(idle_s=idle_s), Thresholds(stale_input_s=0.0))[0] == OK


def test_min_input_rate():
    t = Thresholds(min_input_rate_hz=10.0)
    assert evaluate(window(deltas={"received": 10}, seconds=1.0), t)[0] == OK
    level, message = evaluate(window(deltas={"received": 9}, seconds=1.0), t)
    assert level == WARN and "input rate 9.0 Hz < 10 Hz" in message
    # other input counter names
    assert evaluate(window(deltas={"published": 30}), t, input_key="published")[0] == OK


def test_rejected_and_failed_inputs():
    assert evaluate(window(deltas={"received": 5, "processed": 4, "rejected": 1}), T)[0] == WARN
    assert evaluate(window(deltas={"received": 5, "processed": 5, "failed": 1}), T)[0] == WARN
    level, message = evaluate(window(deltas={"received": 5, "processed": 2, "failed": 2}), T)
    assert level == ERROR and "2 processing failures" in message


def test_worst_problem_wins_and_is_named_first():
    level, message = evaluate(window([300.0], idle_s=10.0), T)
    assert level == ERROR
    assert message.startswith("processing time") and "no input for" in message


def test_a_node_that_expects_no_input_is_ok():
    assert evaluate(window([1e4], idle_s=100.0), T, expects_input=False,
                    idle_reason="lifecycle state inactive") == (OK, "lifecycle state inactive")


def test_tracker_rates_faces_and_staleness():
    tr = DiagnosticsTracker("received", "processed", faces_key="faces")
    tr.reset(100.0, {})
    r = tr.update(102.0, {"received": 20, "processed": 10, "faces": 30, "dropped": 10},
                  [0.010, 0.020, 0.030], T)
    v = dict(r.values)
    assert r.level == OK and r.message == "ok"
    assert v["input_rate_hz"] == "10" and v["output_rate_hz"] == "5"
    assert v["faces_per_frame"] == "3"
    assert v["processing_time_ms_mean"] == "20" and v["processing_time_ms_max"] == "30"
    assert v["dropped_frames"] == "10" and v["dropped_frames_in_window"] == "10"
    assert v["total_received"] == "20" and v["window_s"] == "2"
    # no new input for 6 s: stale
    r = tr.update(108.0, {"received": 20, "processed": 10, "faces": 30, "dropped": 10}, [], T)
    assert r.level == WARN and "no input for 6.0 s" in r.message
    assert dict(r.values)["processing_time_ms_mean"] == "nan"
    assert dict(r.values)["dropped_frames_in_window"] == "0"


def test_tracker_counts_staleness_from_the_start_when_nothing_arrived():
    tr = DiagnosticsTracker()
    tr.reset(0.0, {})
    assert tr.update(4.0, {}, [], T).level == OK
    assert tr.update(5.5, {}, [], T).level == WARN


def test_processing_times_and_percentile():
    times = ProcessingTimes()
    times.add(0.0)
    times.add(0.5)
    drained = times.drain()
    assert len(drained) == 2 and drained[1] == 0.5 and times.drain() == []
    assert percentile([1, 2, 3, 4], 50) == 2.5 and math.isnan(percentile([], 95))


def test_threshold_parameters():
    specs = {s.name: s for s in diagnostics_specs()}
    assert {"diagnostics_period_s", "processing_time_warn_ms", "processing_time_error_ms",
            "min_input_rate_hz", "stale_input_s"} <= set(specs)
    assert specs["diagnostics_period_s"].default == 1.0 and specs["diagnostics_period_s"].read_only
    assert not specs["processing_time_warn_ms"].read_only
    assert check_thresholds({"processing_time_warn_ms": 10.0,
                             "processing_time_error_ms": 5.0})
    assert check_thresholds({"processing_time_warn_ms": 10.0,
                             "processing_time_error_ms": 10.0}) == []
    assert Thresholds.from_values({"stale_input_s": 2, "other": 1}).stale_input_s == 2.0


@pytest.mark.parametrize("module", ["camera_node", "face_detector_node", "emotion_node",
                                    "annotator_node"])
def test_every_node_declares_and_checks_the_thresholds(module):
    import importlib

    mod = importlib.import_module(f"fer_ros.nodes.{module}")
    names = {s.name for s in mod.PARAMS}
    assert {"diagnostics_period_s", "processing_time_warn_ms",
            "processing_time_error_ms"} <= names
    problems = mod.check_params({"processing_time_warn_ms": 10.0,
                                 "processing_time_error_ms": 1.0})
    assert problems and "processing_time_error_ms" in problems[0]


# ---------------------------------------------------------------------------- rate keeping
def feed(rate, start, stop, period):
    t = start
    while t <= stop + 1e-9:
        rate.published(t)
        t += period


def test_rate_keeping_ok_at_the_requested_rate_and_warns_below_it():
    rate = RateKeeping(60.0, now=0.0, window_s=2.0, tolerance=0.1)
    feed(rate, 0.0, 3.0, 1 / 60)
    assert abs(rate.achieved_hz(3.0) - 60.0) < 0.5
    assert rate.problem(3.0) is None
    slow = RateKeeping(60.0, now=0.0, window_s=2.0, tolerance=0.1)
    feed(slow, 0.0, 3.0, 1 / 39)
    assert abs(slow.achieved_hz(3.0) - 39.0) < 0.5
    assert slow.problem(3.0) == "publishing 39.0 frames/s, below the requested 60 (over 2 s)"
    assert abs(slow.overall_hz() - 39.0) < 0.5 and slow.is_below(slow.overall_hz())


def test_rate_keeping_tolerance_and_window():
    rate = RateKeeping(30.0, now=0.0, window_s=2.0, tolerance=0.1)
    feed(rate, 0.0, 4.0, 1 / 28)                 # 7 % below: within the tolerance
    assert rate.problem(4.0) is None
    assert RateKeeping(30.0, 0.0, window_s=2.0).window == 2.0
    assert RateKeeping(2.0, 0.0, window_s=2.0).window == 10.0   # at least 20 periods


def test_rate_keeping_judges_nothing_before_a_whole_window():
    rate = RateKeeping(60.0, now=0.0, window_s=2.0)
    feed(rate, 5.0, 6.0, 1 / 10)                 # first publish at 5 s (added late)
    assert rate.achieved_hz(6.0) is None and rate.problem(6.0) is None
    feed(rate, 6.1, 7.5, 1 / 10)
    assert rate.problem(7.5) is not None


def test_rate_keeping_sees_a_stall_and_forgets_on_restart():
    rate = RateKeeping(30.0, now=0.0, window_s=2.0)
    feed(rate, 0.0, 3.0, 1 / 30)
    assert rate.problem(3.0) is None
    assert rate.achieved_hz(6.0) == 0.0 and rate.problem(6.0) is not None   # nothing since 3 s
    rate.restart(10.0, now=6.0)                  # a new fps
    assert rate.requested_hz == 10.0 and rate.achieved_hz(6.5) is None
    assert rate.overall_hz() is None


def test_node_problems_join_the_level_only_while_input_is_expected():
    camera_problem = [(WARN, "publishing 39.0 frames/s, below the requested 60 (over 2 s)")]
    level, message = evaluate(window(), T, problems=camera_problem)
    assert level == WARN and message == camera_problem[0][1]
    assert evaluate(window([300.0]), T, problems=camera_problem)[0] == ERROR
    assert evaluate(window(), T, problems=camera_problem, expects_input=False,
                    idle_reason="finished") == (OK, "finished")


def test_tracker_reports_unknown_drops_when_they_cannot_be_counted():
    tr = DiagnosticsTracker()
    tr.reset(0.0, {})
    v = dict(tr.update(1.0, {"received": 5, "dropped": 0, "dropped_measured": False},
                       [], T).values)
    assert v["dropped_frames"] == "unknown" and v["dropped_frames_in_window"] == "unknown"
    v = dict(tr.update(2.0, {"received": 9, "dropped": 2, "dropped_measured": True},
                       [], T).values)
    assert v["dropped_frames"] == "2" and v["dropped_frames_in_window"] == "2"


# ---------------------------------------------------------------------------- graph
def test_diagnostics_arrive_with_keys_and_levels(ros_context, executor, helper_node,
                                                 astronaut_bgr, emotion_model):
    from conftest import Collector, composite_frame, spin_until
    from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
    from rclpy.parameter import Parameter
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import Image

    from fer_ros.nodes.emotion_node import EmotionNode
    from fer_ros.nodes.face_detector_node import FaceDetectorNode
    from fer_ros.ros_image import bgr_to_image_msg

    P = Parameter
    fast = [P("diagnostics_period_s", value=0.2)]
    # tiny thresholds: every processed frame is "too slow"
    detector = FaceDetectorNode(context=ros_context, parameter_overrides=fast + [
        P("processing_time_warn_ms", value=0.001), P("processing_time_error_ms", value=1e5)])
    # generous thresholds, and no input expected to be stale within the test
    emotion = EmotionNode(context=ros_context, parameter_overrides=fast + [
        P("model_path", value=str(emotion_model)), P("processing_time_warn_ms", value=1e5),
        P("processing_time_error_ms", value=1e5), P("stale_input_s", value=0.0)])
    # a second detector on another topic that never gets input: stale -> WARN
    stale = FaceDetectorNode("stale_detector", context=ros_context, parameter_overrides=fast + [
        P("stale_input_s", value=0.3)], cli_args=["--ros-args", "-r", "image_raw:=nothing"])
    for node in (detector, emotion, stale):
        executor.add_node(node)
    diags = Collector(helper_node, DiagnosticArray, "/diagnostics", 100)
    pub = helper_node.create_publisher(Image, "image_raw",
                                       QoSProfile(depth=5,
                                                  reliability=ReliabilityPolicy.RELIABLE))
    assert spin_until(executor, lambda: pub.get_subscription_count() >= 1
                      and emotion.count_publishers("/faces") >= 1)
    frame, _ = composite_frame(astronaut_bgr, [(40, 100)])

    def statuses(name):
        return [s for m in diags.messages for s in m.status if s.name == name]

    def feed_until(pred, timeout=20.0):
        sec = [0]

        def step():
            sec[0] += 1
            msg = bgr_to_image_msg(frame)
            msg.header.stamp.sec = sec[0]
            pub.publish(msg)
            return pred()
        return spin_until(executor, step, timeout=timeout, step=0.1)

    assert feed_until(lambda: any(s.level == DiagnosticStatus.WARN
                                  for s in statuses("fer_ros: face_detector"))
                      and any(dict((kv.key, kv.value) for kv in s.values)
                              .get("faces_per_frame", "0") != "0"
                              for s in statuses("fer_ros: emotion"))), \
        [(s.name, s.level, s.message) for m in diags.messages for s in m.status][-10:]

    warn = [s for s in statuses("fer_ros: face_detector") if s.level == DiagnosticStatus.WARN]
    assert "processing time" in warn[-1].message and "0.001 ms" in warn[-1].message
    keys = {kv.key for kv in warn[-1].values}
    assert {"input_rate_hz", "output_rate_hz", "processing_time_ms_mean",
            "processing_time_ms_p95", "processing_time_warn_ms", "processing_time_error_ms",
            "dropped_frames", "faces_per_frame", "model", "lifecycle_state"} <= keys
    values = dict((kv.key, kv.value) for kv in warn[-1].values)
    assert values["model"] == "blazeface" and values["lifecycle_state"] == "active"
    assert warn[-1].hardware_id
    emo = [s for s in statuses("fer_ros: emotion")
           if dict((kv.key, kv.value) for kv in s.values).get("faces_per_frame") != "0"]
    assert emo[-1].level == DiagnosticStatus.OK and emo[-1].message == "ok"
    emo_values = dict((kv.key, kv.value) for kv in emo[-1].values)
    assert emo_values["model"] == str(emotion_model)
    assert float(emo_values["input_rate_hz"]) > 0 and float(emo_values["faces_per_frame"]) > 0
    assert spin_until(executor, lambda: any(
        s.level == DiagnosticStatus.WARN and "no input for" in s.message
        for s in statuses("fer_ros: stale_detector")), timeout=10)


def test_diagnostics_of_an_inactive_node_and_disabled_publisher(ros_context, executor,
                                                                helper_node):
    from conftest import Collector, spin_until
    from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
    from rclpy.parameter import Parameter

    from fer_ros.nodes.face_detector_node import FaceDetectorNode

    idle = FaceDetectorNode("idle_detector", context=ros_context, parameter_overrides=[
        Parameter("autostart", value=False), Parameter("diagnostics_period_s", value=0.2),
        Parameter("stale_input_s", value=0.1)])
    off = FaceDetectorNode("quiet_detector", context=ros_context, parameter_overrides=[
        Parameter("diagnostics_period_s", value=0.0)])
    executor.add_node(idle)
    executor.add_node(off)
    diags = Collector(helper_node, DiagnosticArray, "/diagnostics", 100)
    assert spin_until(executor, lambda: len(diags.messages) >= 3, timeout=10)
    names = {s.name for m in diags.messages for s in m.status}
    assert names == {"fer_ros: idle_detector"}
    status = diags.messages[-1].status[0]
    assert status.level == DiagnosticStatus.OK
    assert status.message == "lifecycle state unconfigured"


def test_percentile_interpolates_between_ranks():
    vals = [10, 20, 30, 40]
    assert percentile(vals, 0) == 10
    assert percentile(vals, 100) == 40
    assert percentile(vals, 50) == pytest.approx(25.0)
    # rank 0.95 * 3 = 2.85 -> 30 + 0.85 * 10
    assert percentile(vals, 95) == pytest.approx(38.5)
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError):
        percentile(vals, 101)


def test_percentile_matches_numpy_on_random_data():
    import numpy as np

    rng = np.random.default_rng(0)
    data = rng.exponential(0.01, 1001)
    for q in (1, 50, 95, 99, 99.9):
        assert percentile(data, q) == pytest.approx(float(np.percentile(data, q)))
        assert percentile(list(data), q) == pytest.approx(float(np.percentile(data, q)))
