"""Bad input must not kill a node: malformed images, inconsistent messages, bad models,
bad sources and bad parameters give clear, counted, throttled errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, Collector, composite_frame, spin_until, wait_connected
from fer_ros.msg import EmotionArray, FaceDetectionArray
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image

RELIABLE = QoSProfile(depth=20, reliability=ReliabilityPolicy.RELIABLE)


def image(encoding="bgr8", height=480, width=640, step=None, data=None, sec=1, nanosec=0):
    msg = Image()
    msg.header.stamp.sec, msg.header.stamp.nanosec = sec, nanosec
    msg.header.frame_id = "cam"
    msg.encoding, msg.height, msg.width = encoding, height, width
    msg.step = width * 3 if step is None else step
    msg.data = bytes(msg.step * height) if data is None else data
    return msg


def bad_images():
    return [
        ("unknown encoding", image(encoding="weird16", data=bytes(640 * 3 * 480))),
        ("step/size mismatch", image(step=640 * 3, data=bytes(1000))),
        ("step too small", image(step=100, data=bytes(100 * 480))),
        ("zero size", image(height=0, width=0, step=0, data=b"")),
    ]


def run_module(module, *args, timeout=60):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True,
                          text=True, timeout=timeout, cwd=str(REPO), env=env)


# ---------------------------------------------------------------------------- face_detector
def test_detector_survives_bad_images_and_throttles_the_log(ros_context, executor,
                                                            helper_node, astronaut_bgr, capfd):
    from fer_ros.nodes.face_detector_node import FaceDetectorNode

    node = FaceDetectorNode(context=ros_context, parameter_overrides=[
        Parameter("log_throttle_s", value=30.0), Parameter("qos_depth", value=10)])
    executor.add_node(node)
    pub = helper_node.create_publisher(Image, "image_raw", RELIABLE)
    faces = Collector(helper_node, FaceDetectionArray, "faces", RELIABLE)
    assert spin_until(executor, lambda: pub.get_subscription_count() >= 1
                      and helper_node.count_publishers("/faces") >= 1)
    assert spin_until(executor, lambda: node.count_subscribers("/faces") >= 1)

    frame, boxes = composite_frame(astronaut_bgr, [(40, 100)])
    good = image(data=frame.tobytes(), sec=10)
    sequence = [("good", good)] + bad_images() + [("good again", image(data=frame.tobytes(),
                                                                       sec=11))]
    for k, (what, msg) in enumerate(sequence, start=1):
        pub.publish(msg)
        assert spin_until(executor, lambda: node.stats().get("received", 0) >= k), what
    assert spin_until(executor, lambda: len(faces.messages) >= 2)

    stats = node.stats()
    assert stats["rejected"] == len(bad_images())
    assert stats["processed"] == 2 and stats.get("failed", 0) == 0
    # only the good frames produced output, with their own stamps
    assert [m.header.stamp.sec for m in faces.messages] == [10, 11]
    assert all(len(m.faces) == 1 for m in faces.messages)
    # throttled: one error line for four rejects within log_throttle_s
    err = capfd.readouterr().err
    assert err.count("rejected image") == 1, err
    assert "weird16" in err


def test_detector_keeps_only_the_newest_frame_under_load(ros_context, executor, helper_node,
                                                          astronaut_bgr):
    """Frames arriving while the node is busy replace each other in its depth-1 input
    history: no queue builds up, the newest frame is processed next, and the overwritten ones
    are counted as dropped."""
    from rclpy.duration import Duration

    from fer_ros.nodes.face_detector_node import FaceDetectorNode

    node = FaceDetectorNode(context=ros_context)      # qos_depth 1, the default
    executor.add_node(node)
    pub = helper_node.create_publisher(Image, "image_raw", RELIABLE)
    faces = Collector(helper_node, FaceDetectionArray, "faces", RELIABLE)
    assert wait_connected(executor, {pub: 1}, [(node, "/faces")])
    frame, _ = composite_frame(astronaut_bgr, [(40, 100)])
    real = node._search.detector.detect

    def busy_detect(bgr, **kwargs):
        if node.stats()["received"] == 1:
            # while frame 1 is being processed, frames 2..6 arrive (acknowledged = in the
            # node's input history)
            for sec in range(2, 7):
                pub.publish(image(data=frame.tobytes(), sec=sec))
            assert pub.wait_for_all_acked(Duration(seconds=10))
        return real(bgr, **kwargs)

    node._search.detector.detect = busy_detect
    pub.publish(image(data=frame.tobytes(), sec=1))
    assert spin_until(executor, lambda: len(faces.messages) >= 2, timeout=20)
    spin_until(executor, lambda: False, timeout=0.5)    # anything else would arrive now
    assert [m.header.stamp.sec for m in faces.messages] == [1, 6]   # 1, then the newest
    stats = node.stats()
    assert stats["dropped"] == 4 and stats["dropped_measured"]      # 2..5 never processed
    assert stats["processed"] == stats["received"] == 2


# ---------------------------------------------------------------------------- emotion
def test_emotion_node_rejects_inconsistent_faces_messages(ros_context, executor, helper_node,
                                                          emotion_model):
    from fer_ros.msg import FaceDetection

    from fer_ros.nodes.emotion_node import EmotionNode
    from fer_ros.ros_image import bgr_to_image_msg

    node = EmotionNode(context=ros_context, parameter_overrides=[
        Parameter("model_path", value=str(emotion_model))])
    executor.add_node(node)
    pub = helper_node.create_publisher(FaceDetectionArray, "faces", RELIABLE)
    out = Collector(helper_node, EmotionArray, "emotions", RELIABLE)
    assert wait_connected(executor, {pub: 1}, [(node, "/emotions")])

    def faces_msg(sec, crops=1, faces=1, crop=None):
        msg = FaceDetectionArray()
        msg.header.stamp.sec = sec
        for _ in range(faces):
            f = FaceDetection()
            f.id = 1
            f.box.width = f.box.height = 40
            msg.faces.append(f)
        for _ in range(crops):
            msg.crops.append(crop if crop is not None else
                             bgr_to_image_msg(np.full((40, 40, 3), 120, np.uint8)))
        return msg

    sequence = [faces_msg(1), faces_msg(2, crops=0),
                faces_msg(3, crop=image(encoding="nope", height=4, width=4, step=12,
                                        data=bytes(48))),
                faces_msg(4, crop=image(height=4, width=4, step=12, data=bytes(7))),
                faces_msg(5, crops=0, faces=0), faces_msg(6)]
    for k, msg in enumerate(sequence, start=1):
        pub.publish(msg)
        assert spin_until(executor, lambda: node.stats().get("received", 0) >= k)
    assert spin_until(executor, lambda: len(out.messages) >= 3)
    assert node.stats()["rejected"] == 3
    assert [m.header.stamp.sec for m in out.messages] == [1, 5, 6]
    assert [len(m.faces) for m in out.messages] == [1, 0, 1]


def test_missing_model_fails_at_start_naming_the_path(ros_context, tmp_path):
    from fer_ros.emotion_classifier import ModelLoadError
    from fer_ros.nodes.emotion_node import EmotionNode

    missing = tmp_path / "no_such_model.tflite"
    with pytest.raises(ModelLoadError, match="no_such_model.tflite"):
        EmotionNode(context=ros_context, parameter_overrides=[
            Parameter("model_path", value=str(missing))])


def test_corrupt_model_fails_at_start_naming_the_path(ros_context, tmp_path, tiny_model):
    from fer_ros.emotion_classifier import ModelLoadError
    from fer_ros.nodes.emotion_node import EmotionNode

    bad = tmp_path / "corrupt.tflite"
    bad.write_bytes(b"this is not a flatbuffer" * 10)
    Path(str(bad) + ".json").write_text(Path(str(tiny_model) + ".json").read_text())
    with pytest.raises(ModelLoadError, match="corrupt.tflite"):
        EmotionNode(context=ros_context, parameter_overrides=[
            Parameter("model_path", value=str(bad))])
    # a model without its card: the error names the card it expected
    nocard = tmp_path / "nocard.tflite"
    nocard.write_bytes(tiny_model.read_bytes())
    with pytest.raises(ModelLoadError, match="nocard.tflite.json"):
        EmotionNode(context=ros_context, parameter_overrides=[
            Parameter("model_path", value=str(nocard))])


def test_emotion_executable_reports_missing_model_without_traceback(tmp_path):
    missing = tmp_path / "gone" / "emotion.tflite"
    proc = run_module("fer_ros.nodes.emotion_node", "--ros-args", "-p",
                      f"model_path:={missing}")
    assert proc.returncode == 1
    assert str(missing) in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_model_resolver(tmp_path, monkeypatch):
    from fer_ros.model_files import resolve_model_path

    model = tmp_path / "m.tflite"
    model.write_bytes(b"x")
    assert resolve_model_path(str(model))[0] == model
    monkeypatch.chdir(tmp_path)
    assert resolve_model_path("m.tflite")[0] == tmp_path / "m.tflite"
    # missing relative path: the first candidate (cwd) is reported, all are listed
    path, tried = resolve_model_path("models/none.tflite")
    assert path == tmp_path / "models/none.tflite" and len(tried) >= 2
    # default: the shipped int8 model in a share directory (or the source tree)
    monkeypatch.delenv("FER_ROS_MODEL", raising=False)
    path, tried = resolve_model_path("")
    assert path.name == "emotion_cnn_int8.tflite" and path.parent.name == "models"
    monkeypatch.setenv("FER_ROS_MODEL", str(model))
    assert resolve_model_path("")[0] == model


def test_default_model_falls_back_to_float32(tmp_path, monkeypatch):
    from fer_ros import model_files

    share = tmp_path / "share"
    (share / "models").mkdir(parents=True)
    monkeypatch.delenv("FER_ROS_MODEL", raising=False)
    monkeypatch.setattr(model_files, "share_dirs", lambda: [share])
    float32 = share / "models" / "emotion_cnn.tflite"
    float32.write_bytes(b"x")
    assert model_files.resolve_model_path("")[0] == float32
    int8 = share / "models" / "emotion_cnn_int8.tflite"
    int8.write_bytes(b"x")
    assert model_files.resolve_model_path("")[0] == int8


# ---------------------------------------------------------------------------- camera
def test_missing_source_fails_at_start_naming_it(ros_context, tmp_path):
    from fer_ros.nodes.camera_node import CameraNode
    from fer_ros.sources import SourceError

    with pytest.raises(SourceError, match="missing_clip.mp4"):
        CameraNode(context=ros_context, parameter_overrides=[
            Parameter("source", value=str(tmp_path / "missing_clip.mp4"))])


def test_camera_executable_reports_bad_source_without_traceback(tmp_path):
    proc = run_module("fer_ros.nodes.camera_node", "--ros-args", "-p",
                      f"source:={tmp_path}/nothing.avi")
    assert proc.returncode == 1
    assert "nothing.avi" in proc.stderr and "Traceback" not in proc.stderr


def test_unreadable_video_ends_cleanly(ros_context, executor, tmp_path):
    from fer_ros.nodes.camera_node import CameraNode
    from fer_ros.sources import SourceError

    bad = tmp_path / "broken.avi"
    bad.write_bytes(b"RIFF" + bytes(2000))
    try:
        cam = CameraNode(context=ros_context, parameter_overrides=[
            Parameter("source", value=str(bad)), Parameter("fps", value=50.0)])
    except SourceError as exc:          # OpenCV refused to open it: fine, and named
        assert "broken.avi" in str(exc)
        return
    executor.add_node(cam)
    assert spin_until(executor, cam.finished.is_set, timeout=5)
    assert "no frames" in cam.end_reason and cam.stats()["published"] == 0


# ---------------------------------------------------------------------------- annotator
def test_frame_matcher_out_of_order_and_unmatched():
    from fer_ros.frame_matching import FrameMatcher

    m = FrameMatcher(frame_budget_bytes=3, result_capacity=2, nbytes=lambda frame: 1)

    def k(sec):
        return (sec, 0, "cam")

    assert m.add_result(k(1), "r1") is None           # result before its frame
    assert m.add_frame(k(1), "f1") == ("f1", "r1")
    for s in (2, 3, 4):
        assert m.add_frame(k(s), f"f{s}") is None
    assert m.add_result(k(4), "r4") == ("f4", "r4")   # 2, 3 will never get results
    assert m.frames_evicted == 2 and not m.frames
    for s in range(5, 10):
        m.add_frame(k(s), f"f{s}")
    assert len(m.frames) == 3 and m.frames_evicted == 4
    for s in (20, 21, 22):
        m.add_result(k(s), f"r{s}")
    assert len(m.results) == 2 and m.results_evicted == 1


def test_annotator_ignores_results_without_frames(ros_context, executor, helper_node):
    from fer_ros.nodes.annotator_node import AnnotatorNode

    node = AnnotatorNode(context=ros_context, parameter_overrides=[
        Parameter("result_buffer_size", value=2)])
    executor.add_node(node)
    pub = helper_node.create_publisher(EmotionArray, "emotions", RELIABLE)
    assert wait_connected(executor, {pub: 1})
    for sec in range(5):
        msg = EmotionArray()
        msg.header.stamp.sec = sec
        pub.publish(msg)
    assert spin_until(executor, lambda: node.stats().get("results_received", 0) == 5)
    stats = node.stats()
    assert stats.get("published", 0) == 0 and stats["results_unmatched"] == 3


# ---------------------------------------------------------------------------- parameters
def test_runtime_parameter_changes_are_validated(ros_context):
    from fer_ros.nodes.camera_node import CameraNode
    from fer_ros.nodes.face_detector_node import FaceDetectorNode

    det = FaceDetectorNode(context=ros_context)
    try:
        bad = det.set_parameters([Parameter("score_threshold", value=2.0)])[0]
        assert not bad.successful and "score_threshold" in bad.reason
        ro = det.set_parameters([Parameter("detector", value="haar")])[0]
        assert not ro.successful
        assert det.set_parameters([Parameter("max_faces", value=3)])[0].successful
        assert det.get_parameter("max_faces").value == 3
        desc = det.describe_parameter("score_threshold")
        assert desc.description and desc.floating_point_range[0].to_value == 1.0
        assert det.describe_parameter("detector").read_only
    finally:
        det.destroy_node()
    cam = CameraNode(context=ros_context, parameter_overrides=[
        Parameter("source", value=str(REPO / "fer_ros" / "data" / "sample_clip.mp4"))])
    try:
        assert cam.set_parameters([Parameter("fps", value=5.0)])[0].successful
        assert cam.publish_rate() == 5.0
        assert not cam.set_parameters([Parameter("fps", value=-1.0)])[0].successful
    finally:
        cam.destroy_node()


@pytest.mark.parametrize("module, values, word", [
    ("camera_node", {"reliability": "sometimes"}, "reliability"),
    ("camera_node", {"frame_id": " camera"}, "frame_id"),
    ("camera_node", {"fps": "fast"}, "fps"),
    ("face_detector_node", {"tracker_iou_threshold": 0.0}, "tracker_iou_threshold"),
    ("face_detector_node", {"max_faces": True}, "max_faces"),
    ("emotion_node", {"model_path": "model.onnx"}, "model_path"),
    ("emotion_node", {"switch_margin": 1.5}, "switch_margin"),
    ("annotator_node", {"jpeg_quality": 0}, "jpeg_quality"),
    ("annotator_node", {"no_such_param": 1}, "unknown"),
])
def test_pure_check_functions(module, values, word):
    import importlib

    mod = importlib.import_module(f"fer_ros.nodes.{module}")
    problems = mod.check_params(values)
    assert problems and word in " ".join(problems)
    from fer_ros.parameters import defaults

    assert mod.check_params(defaults(mod.PARAMS)) == []


def test_bad_initial_parameter_fails_at_start(ros_context):
    from fer_ros.nodes.camera_node import CameraNode
    from fer_ros.nodes.runner import STARTUP_ERRORS

    with pytest.raises(STARTUP_ERRORS) as info:
        CameraNode(context=ros_context, parameter_overrides=[
            Parameter("reliability", value="sometimes")])
    assert "reliability" in str(info.value)


def test_camera_reopens_a_device_that_stops(ros_context, executor, helper_node, monkeypatch):
    """A live source that stops delivering is closed and reopened (no real device needed)."""
    from fer_ros import sources
    from fer_ros.nodes import camera_node

    opened = []

    class FlakyDevice(sources.FrameSource):
        live, loopable = True, False

        def __init__(self):
            super().__init__("camera device 'fake'")
            self.left = 3
            opened.append(self)

        def _read_raw(self):
            if self.left == 0:
                return None               # unplugged
            self.left -= 1
            return np.zeros((24, 32, 3), np.uint8)

        def reopen(self):
            raise AssertionError("the node opens a new source instead")

    attempts = []

    def fake_open(spec, *args):
        attempts.append(spec)
        if len(attempts) == 2:            # the first reconnect attempt fails
            raise sources.SourceError("camera device 'fake': busy")
        return FlakyDevice()

    monkeypatch.setattr(camera_node, "open_source", fake_open)
    images = Collector(helper_node, Image, "image_raw", RELIABLE)
    cam = camera_node.CameraNode(context=ros_context, parameter_overrides=[
        Parameter("source", value="0"), Parameter("fps", value=100.0),
        Parameter("reopen_delay_s", value=0.05)])
    executor.add_node(cam)
    assert spin_until(executor, lambda: len(images.messages) >= 6, timeout=10)
    stats = cam.stats()
    assert stats["device_failures"] >= 1 and stats["reopened"] >= 1
    assert len(attempts) >= 3 and not cam.finished.is_set()


def test_camera_info_from_a_calibration_file(ros_context, executor, helper_node, tmp_path):
    from sensor_msgs.msg import CameraInfo

    from fer_ros.camera_info import load_camera_info
    from fer_ros.nodes.camera_node import CameraNode
    from fer_ros.sources import SourceError

    sample = REPO / "fer_ros" / "data" / "sample_clip.mp4"
    cal = tmp_path / "cal.yaml"
    cal.write_text("image_width: 640\nimage_height: 480\ncamera_name: camera\n"
                   "camera_matrix: {rows: 3, cols: 3, data: [500, 0, 320, 0, 500, 240, 0, 0, 1]}\n"
                   "distortion_model: plumb_bob\n"
                   "distortion_coefficients: {rows: 1, cols: 5, data: [0.1, 0, 0, 0, 0]}\n")
    assert load_camera_info(f"file://{cal}")["k"][0] == 500.0
    broken = tmp_path / "broken.yaml"
    broken.write_text("image_width: 640\n")
    with pytest.raises(SourceError, match="broken.yaml"):
        load_camera_info(str(broken))
    infos = Collector(helper_node, CameraInfo, "camera_info", RELIABLE)
    cam = CameraNode(context=ros_context, parameter_overrides=[
        Parameter("source", value=str(sample)), Parameter("max_frames", value=2),
        Parameter("camera_info_url", value=f"file://{cal}"), Parameter("fps", value=30.0)])
    executor.add_node(cam)
    assert spin_until(executor, lambda: len(infos.messages) >= 1, timeout=10)
    info = infos.messages[0]
    assert list(info.k) == [500, 0, 320, 0, 500, 240, 0, 0, 1]
    assert list(info.d)[0] == pytest.approx(0.1) and info.p[0] == 500


# ---------------------------------------------------------------------------- budgets
def test_frames_over_the_pixel_budget_are_rejected_before_any_copy(
        ros_context, executor, helper_node, astronaut_bgr, capfd):
    """face_detector and annotator refuse a frame on its width x height, with the reason."""
    from fer_ros.nodes.annotator_node import AnnotatorNode
    from fer_ros.nodes.face_detector_node import FaceDetectorNode

    budget = [Parameter("max_image_pixels", value=640 * 480)]
    det = FaceDetectorNode(context=ros_context, parameter_overrides=budget)
    ann = AnnotatorNode(context=ros_context, parameter_overrides=budget)
    executor.add_node(det)
    executor.add_node(ann)
    pub = helper_node.create_publisher(Image, "image_raw", RELIABLE)
    faces = Collector(helper_node, FaceDetectionArray, "faces", RELIABLE)
    assert wait_connected(executor, {pub: 2}, [(det, "/faces")])
    frame, _ = composite_frame(astronaut_bgr, [(40, 100)])
    # one row too many: over the budget (the data is consistent, so only the size is wrong)
    pub.publish(image(height=481, data=bytes(640 * 3 * 481), sec=1))
    assert spin_until(executor, lambda: ann.stats().get("rejected", 0) == 1
                      and det.stats().get("rejected", 0) == 1)
    pub.publish(image(data=frame.tobytes(), sec=2))
    assert spin_until(executor, lambda: len(faces.messages) >= 1
                      and ann.stats().get("frames_received", 0) == 2)
    assert [m.header.stamp.sec for m in faces.messages] == [2]
    assert len(ann.matcher.frames) == 1                      # only the frame within budget
    err = capfd.readouterr().err
    assert "640x481 = 307840 pixels is over the max_image_pixels budget of 307200" in err


def test_annotator_skips_only_the_face_with_an_out_of_range_box(ros_context, executor,
                                                                 helper_node):
    """A uint32 box coordinate >= 2**31 made cv2.rectangle raise and lost the whole frame."""
    from hostile_messages import out_of_range_result

    from fer_ros.nodes.annotator_node import AnnotatorNode

    node = AnnotatorNode(context=ros_context)
    executor.add_node(node)
    pub = helper_node.create_publisher(Image, "image_raw", RELIABLE)
    emo_pub = helper_node.create_publisher(EmotionArray, "emotions", RELIABLE)
    out = Collector(helper_node, Image, "image_annotated", RELIABLE)
    assert wait_connected(executor, {pub: 1, emo_pub: 1}, [(node, "/image_annotated")])
    result = out_of_range_result()
    result.header.stamp.sec, result.header.frame_id = 1, "cam"
    pub.publish(image(sec=1))                  # black 640x480
    emo_pub.publish(result)
    assert spin_until(executor, lambda: len(out.messages) >= 1)
    stats = node.stats()
    assert stats["faces_skipped"] == 1 and stats.get("failed", 0) == 0
    drawn = np.frombuffer(bytes(out.messages[0].data), np.uint8).reshape(480, 640, 3)
    assert drawn[130, 100].any()               # the in-range face's box (left edge) is drawn
    assert drawn[300, 636:].any()              # the huge box is clipped to the image


def test_emotion_node_caps_faces_and_handles_each_face_alone(ros_context, executor,
                                                             helper_node, emotion_model,
                                                             capfd):
    from fer_ros.msg import FaceDetection

    from fer_ros.nodes.emotion_node import EmotionNode
    from fer_ros.ros_image import bgr_to_image_msg

    node = EmotionNode(context=ros_context, parameter_overrides=[
        Parameter("model_path", value=str(emotion_model)), Parameter("max_faces", value=4),
        Parameter("max_image_pixels", value=100 * 100)])
    executor.add_node(node)
    pub = helper_node.create_publisher(FaceDetectionArray, "faces", RELIABLE)
    out = Collector(helper_node, EmotionArray, "emotions", RELIABLE)
    assert wait_connected(executor, {pub: 1}, [(node, "/emotions")])
    msg = FaceDetectionArray()
    msg.header.stamp.sec = 7
    good = bgr_to_image_msg(np.full((40, 40, 3), 120, np.uint8))
    crops = [good, image(encoding="nope", height=4, width=4, step=12, data=bytes(48)),
             bgr_to_image_msg(np.zeros((101, 100, 3), np.uint8)), good, good, good]
    for i, crop in enumerate(crops, start=1):
        face = FaceDetection()
        face.id = i
        face.box.width = face.box.height = 40
        face.score = float("nan") if i == 4 else 0.9
        msg.faces.append(face)
        msg.crops.append(crop)
    pub.publish(msg)
    assert spin_until(executor, lambda: len(out.messages) >= 1)
    result = out.messages[0]
    # faces 1..4 considered (max_faces), 2 (bad encoding) and 3 (over budget) skipped
    assert [f.face_id for f in result.faces] == [1, 4]
    assert result.faces[1].detection_score == 0.0
    stats = node.stats()
    assert stats["faces_over_limit"] == 2 and stats["faces_skipped"] == 2
    assert stats["scores_clamped"] == 1 and stats.get("rejected", 0) == 0
    err = capfd.readouterr().err
    assert "classifying the first 4 (max_faces)" in err and "skipped 2 of 4 faces" in err


def test_emotion_node_drops_a_message_over_its_frame_budget(ros_context, executor,
                                                            helper_node, emotion_model):
    """After a measured message, one that would take longer than frame_budget_ms is
    dropped and counted instead of delaying the next ones."""
    from fer_ros.msg import FaceDetection

    from fer_ros.nodes.emotion_node import EmotionNode
    from fer_ros.ros_image import bgr_to_image_msg

    node = EmotionNode(context=ros_context, parameter_overrides=[
        Parameter("model_path", value=str(emotion_model)), Parameter("max_faces", value=64),
        Parameter("frame_budget_ms", value=1.0)])
    executor.add_node(node)
    pub = helper_node.create_publisher(FaceDetectionArray, "faces", RELIABLE)
    out = Collector(helper_node, EmotionArray, "emotions", RELIABLE)
    assert wait_connected(executor, {pub: 1}, [(node, "/emotions")])

    def faces_msg(sec, n):
        msg = FaceDetectionArray()
        msg.header.stamp.sec = sec
        for _ in range(n):
            msg.faces.append(FaceDetection())
            msg.crops.append(bgr_to_image_msg(np.full((120, 120, 3), 90, np.uint8)))
        return msg

    pub.publish(faces_msg(1, 1))               # measured: learns the time per face
    assert spin_until(executor, lambda: len(out.messages) >= 1)
    pub.publish(faces_msg(2, 64))              # 64 faces: far over 1 ms
    assert spin_until(executor, lambda: node.stats().get("dropped_over_budget", 0) == 1)
    pub.publish(faces_msg(3, 0))               # an empty message always fits
    assert spin_until(executor, lambda: len(out.messages) >= 2)
    assert [m.header.stamp.sec for m in out.messages] == [1, 3]


def test_camera_skips_frames_over_the_pixel_budget(ros_context, executor, helper_node,
                                                   tmp_path):
    import cv2

    from fer_ros.nodes.camera_node import CameraNode

    folder = tmp_path / "frames"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), np.full((48, 64, 3), 50, np.uint8))
    cv2.imwrite(str(folder / "b.png"), np.full((480, 640, 3), 90, np.uint8))   # too big
    cv2.imwrite(str(folder / "c.png"), np.full((48, 64, 3), 130, np.uint8))
    images = Collector(helper_node, Image, "image_raw", RELIABLE)
    cam = CameraNode(context=ros_context, parameter_overrides=[
        Parameter("source", value=str(folder)), Parameter("loop", value=False),
        Parameter("fps", value=50.0), Parameter("max_image_pixels", value=64 * 48)])
    executor.add_node(cam)
    assert spin_until(executor, cam.finished.is_set, timeout=10)
    assert spin_until(executor, lambda: len(images.messages) >= 2)
    assert [(m.width, m.height) for m in images.messages] == [(64, 48), (64, 48)]
    assert cam.stats()["source_skipped"] == 1


def test_all_unreadable_folder_fails_like_a_missing_source(ros_context, tmp_path):
    from fer_ros.nodes.camera_node import CameraNode
    from fer_ros.sources import SourceError

    folder = tmp_path / "junk"
    folder.mkdir()
    for name in ("a.png", "b.jpg"):
        (folder / name).write_bytes(b"not an image")
    with pytest.raises(SourceError, match="none of its 2 image files can be decoded"):
        CameraNode(context=ros_context, parameter_overrides=[
            Parameter("source", value=str(folder)), Parameter("loop", value=True)])
    proc = run_module("fer_ros.nodes.camera_node", "--ros-args", "-p", f"source:={folder}",
                      "-p", "loop:=true")
    assert proc.returncode == 1
    assert "junk" in proc.stderr and "Traceback" not in proc.stderr


def test_setting_an_undeclared_parameter_names_it(ros_context, executor, helper_node):
    """rclpy's own answer was 'Invalid access to undeclared parameter(s): []'."""
    from rcl_interfaces.srv import SetParameters

    from fer_ros.nodes.annotator_node import AnnotatorNode

    node = AnnotatorNode(context=ros_context)
    executor.add_node(node)
    client = helper_node.create_client(SetParameters, "/annotator/set_parameters")
    assert spin_until(executor, client.service_is_ready)
    request = SetParameters.Request(parameters=[
        Parameter("jpeg_qualty", value=50).to_parameter_msg()])
    future = client.call_async(request)
    assert spin_until(executor, future.done)
    result = future.result().results[0]
    assert not result.successful
    assert "'jpeg_qualty'" in result.reason and "jpeg_quality" in result.reason
    # a declared one still works through the same path
    request = SetParameters.Request(parameters=[
        Parameter("jpeg_quality", value=50).to_parameter_msg()])
    future = client.call_async(request)
    assert spin_until(executor, future.done) and future.result().results[0].successful
