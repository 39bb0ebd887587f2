"""End to end on a real rclpy graph: camera -> face_detector -> emotion -> annotator.

All nodes run in one SingleThreadedExecutor inside the test process (ROS_DOMAIN_ID is random
per session, see conftest.py). Frames with faces at known positions go in; the test checks
what comes out on faces, emotions, image_annotated(/compressed) and camera_info.
"""

from __future__ import annotations

import re

import cv2
import numpy as np
import pytest
from conftest import Collector, composite_frame, spin_until
from fer_ros.msg import EmotionArray, FaceDetectionArray
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, CompressedImage, Image

from fer_ros.face_crop import node_crop
from fer_ros.face_detection import Detection
from fer_ros.face_tracking.search import make_face_detector
from fer_ros.frame_matching import header_key

RELIABLE = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)

# Two faces, the left one moving right by 6 px per frame; the last frame has no face.
N_FACE_FRAMES = 6


def positions(i):
    return [(20 + 6 * i, 100), (380, 150)]


def iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    return inter / float(aw * ah + bw * bh - inter)


def roi(box):
    return (box.x_offset, box.y_offset, box.width, box.height)


@pytest.fixture(scope="module")
def frame_folder(tmp_path_factory, astronaut_bgr):
    folder = tmp_path_factory.mktemp("frames")
    truth = []
    for i in range(N_FACE_FRAMES):
        frame, boxes = composite_frame(astronaut_bgr, positions(i))
        cv2.imwrite(str(folder / f"f{i:02d}.png"), frame)
        truth.append((frame, boxes))
    empty = np.full((480, 640, 3), 110, np.uint8)
    cv2.imwrite(str(folder / f"f{N_FACE_FRAMES:02d}.png"), empty)
    truth.append((empty, []))
    return folder, truth


def wait_connected(executor, node, needs, timeout=10.0):
    ns = node.get_namespace().rstrip("/")
    return spin_until(executor, lambda: all(node.count_subscribers(f"{ns}/{t}") >= n
                                            for t, n in needs.items()), timeout)


def test_graph_end_to_end_on_known_frames(ros_context, executor, helper_node, frame_folder,
                                          emotion_model):
    from fer_ros.emotion_classifier import read_card
    from fer_ros.nodes.annotator_node import AnnotatorNode
    from fer_ros.nodes.camera_node import CameraNode
    from fer_ros.nodes.emotion_node import EmotionNode
    from fer_ros.nodes.face_detector_node import FaceDetectorNode

    folder, truth = frame_folder
    n_frames = len(truth)
    images = Collector(helper_node, Image, "image_raw", RELIABLE)
    infos = Collector(helper_node, CameraInfo, "camera_info", RELIABLE)
    faces = Collector(helper_node, FaceDetectionArray, "faces", RELIABLE)
    emotions = Collector(helper_node, EmotionArray, "emotions", RELIABLE)
    annotated = Collector(helper_node, Image, "image_annotated", RELIABLE)
    jpegs = Collector(helper_node, CompressedImage, "image_annotated/compressed", RELIABLE)

    P = Parameter
    detector = FaceDetectorNode(context=ros_context, parameter_overrides=[
        P("tracker_min_hits", value=2), P("qos_depth", value=10)])
    emotion = EmotionNode(context=ros_context, parameter_overrides=[
        P("model_path", value=str(emotion_model)), P("qos_depth", value=10)])
    annotator = AnnotatorNode(context=ros_context)
    for node in (detector, emotion, annotator):
        executor.add_node(node)
    camera = CameraNode(context=ros_context, parameter_overrides=[
        P("source", value=str(folder)), P("loop", value=False), P("fps", value=4.0),
        P("frame_id", value="test_cam")])
    assert wait_connected(executor, helper_node,
                          {"image_raw": 3, "faces": 2, "emotions": 2, "image_annotated": 1,
                           "image_annotated/compressed": 1})
    executor.add_node(camera)

    def done():
        return camera.finished.is_set() and len(annotated.messages) >= len(emotions.messages) \
            and len(emotions.messages) >= detector.stats().get("processed", 0) > 0 \
            and len(jpegs.messages) >= len(annotated.messages)
    assert spin_until(executor, done, timeout=60.0), (camera.stats(), detector.stats(),
                                                     emotion.stats(), annotator.stats())
    spin_until(executor, lambda: False, timeout=0.5)   # stragglers

    # ---- camera: every frame published once, in order, stamped, with camera_info
    assert len(images.messages) == n_frames
    assert camera.stats()["published"] == n_frames
    assert "ended after" in camera.end_reason
    index_of = {header_key(m.header): i for i, m in enumerate(images.messages)}
    assert len(index_of) == n_frames
    stamps = [m.header.stamp.sec * 10**9 + m.header.stamp.nanosec for m in images.messages]
    assert stamps == sorted(stamps)
    for img, (frame, _) in zip(images.messages, truth):
        assert (img.encoding, img.width, img.height, img.header.frame_id) == \
            ("bgr8", 640, 480, "test_cam")
        np.testing.assert_array_equal(
            np.frombuffer(bytes(img.data), np.uint8).reshape(480, 640, 3), frame)
    assert {header_key(m.header) for m in infos.messages} == set(index_of)
    assert all((m.width, m.height) == (640, 480) for m in infos.messages)

    # ---- nothing went wrong on the way
    assert detector.stats().get("rejected", 0) == 0
    assert detector.stats().get("failed", 0) == 0 and emotion.stats().get("failed", 0) == 0
    assert len(faces.messages) >= 3, "too few frames processed"

    # ---- faces: header of the source, boxes near the known faces, crops = the node's crops
    ids_by_slot = {0: set(), 1: set()}
    search = make_face_detector({})
    for msg in faces.messages:
        i = index_of[header_key(msg.header)]
        frame, expected = truth[i]
        assert (msg.image_width, msg.image_height) == (640, 480)
        assert len(msg.faces) == len(expected) == len(msg.crops)
        for face, crop_msg in zip(msg.faces, msg.crops):
            box = roi(face.box)
            best = max(range(len(expected)), key=lambda k: iou(box, expected[k]))
            assert iou(box, expected[best]) > 0.7, (i, box, expected)
            ids_by_slot[best].add(face.id)
            assert 0.5 <= face.score <= 1.0
            assert header_key(crop_msg.header) == header_key(msg.header)
            # the node's crop (fer_ros.face_crop.node_crop) of this box, at frame resolution
            fresh = max(search.detect(frame), key=lambda d: iou(d.box, box))
            height, width = node_crop(frame, Detection(*box, 1.0, fresh.keypoints)).shape[:2]
            assert (crop_msg.encoding, crop_msg.width, crop_msg.height) == \
                ("bgr8", width, height)
            got = np.frombuffer(bytes(crop_msg.data), np.uint8).reshape(height, width, 3)
            # the same face as the node's crop of a fresh search on this frame (the node
            # may have looked with the close-up model: key points differ a little)
            reference = cv2.resize(node_crop(frame, fresh), (width, height))
            similarity = cv2.matchTemplate(got, reference, cv2.TM_CCOEFF_NORMED)[0, 0]
            assert similarity > 0.85, (i, box, similarity)
    # each face kept one track id, and the two ids differ
    assert all(len(s) == 1 for s in ids_by_slot.values()), ids_by_slot
    assert ids_by_slot[0] != ids_by_slot[1] and 0 not in ids_by_slot[0] | ids_by_slot[1]
    last_with_faces = [m for m in faces.messages if m.faces][-1]
    assert sorted(last_with_faces.tracked_ids) == sorted(ids_by_slot[0] | ids_by_slot[1])

    # ---- emotions: one per processed frame, header copied, class names, scores sum to 1
    class_names = read_card(emotion_model)["class_names"]
    faces_by_key = {header_key(m.header): m for m in faces.messages}
    assert [header_key(m.header) for m in emotions.messages] == \
        [header_key(m.header) for m in faces.messages]
    for msg in emotions.messages:
        src = faces_by_key[header_key(msg.header)]
        assert list(msg.class_names) == class_names
        assert len(msg.faces) == len(src.faces)
        assert list(msg.tracked_ids) == list(src.tracked_ids)
        for emo, face in zip(msg.faces, src.faces):
            assert emo.face_id == face.id and roi(emo.box) == roi(face.box)
            assert emo.detection_score == pytest.approx(face.score)
            for scores, label, conf in ((emo.scores, emo.label, emo.confidence),
                                        (emo.raw_scores, emo.raw_label, emo.raw_confidence)):
                assert len(scores) == len(class_names)
                assert sum(scores) == pytest.approx(1.0, abs=1e-4)
                assert label in class_names
                assert conf == pytest.approx(scores[class_names.index(label)], abs=1e-6)
            assert emo.raw_label == class_names[int(np.argmax(emo.raw_scores))]
    # the empty last frame was processed too (unless dropped) and has no faces
    last_key = header_key(images.messages[-1].header)
    if last_key in faces_by_key:
        assert len(faces_by_key[last_key].faces) == 0

    # ---- annotated images: one per result, same stamp, overlay of that frame's result
    emotions_by_key = {header_key(m.header): m for m in emotions.messages}
    assert sorted(header_key(m.header) for m in annotated.messages) == \
        sorted(emotions_by_key)
    for msg in annotated.messages:
        key = header_key(msg.header)
        frame, expected = truth[index_of[key]]
        assert (msg.encoding, msg.width, msg.height) == ("bgr8", 640, 480)
        out = np.frombuffer(bytes(msg.data), np.uint8).reshape(480, 640, 3)
        changed = np.any(out != frame, axis=2)
        if not emotions_by_key[key].faces:
            assert not changed.any(), "frame without faces must be published unchanged"
            continue
        for emo in emotions_by_key[key].faces:
            x, y, w, h = roi(emo.box)
            # the box outline is drawn around this frame's box...
            edge = changed[max(0, y - 3):y + 4, x:x + w]
            assert edge.mean() > 0.5, (key, roi(emo.box))
        # ...and nothing far away from the faces changed
        assert not changed[400:, :].any()
    jpeg_keys = sorted(header_key(m.header) for m in jpegs.messages)
    assert jpeg_keys == sorted(emotions_by_key)
    dec = cv2.imdecode(np.frombuffer(bytes(jpegs.messages[0].data), np.uint8),
                       cv2.IMREAD_COLOR)
    assert dec.shape == (480, 640, 3)
    assert annotator.stats().get("published", 0) == len(annotated.messages)


def test_pipeline_on_sample_clip_matches_ground_truth(ros_context, executor, helper_node,
                                                     emotion_model):
    """The single-process Pipeline on the first seconds of the built-in clip."""
    from fer_ros import sample_clip
    from fer_ros.message_loss import account_frames
    from fer_ros.pipeline import Pipeline, default_params_file

    if not sample_clip.sample_clip_path().is_file():
        pytest.skip("sample clip not shipped")
    images = Collector(helper_node, Image, "image_raw", RELIABLE)
    emotions = Collector(helper_node, EmotionArray, "emotions", RELIABLE)
    annotated = Collector(helper_node, Image, "image_annotated", RELIABLE)
    n = 20
    pipeline = Pipeline(default_params_file(), {
        "camera": {"source": "sample", "loop": False, "max_frames": n, "fps": 10.0},
        "emotion": {"model_path": str(emotion_model)}}, context=ros_context)
    try:
        # the helper node is spun by the test's executor, the pipeline by its own
        pipeline.start(extra_subscribers={"emotions": 1, "image_raw": 1})
        ok = spin_until(executor, lambda: pipeline.camera.finished.is_set()
                        and len(annotated.messages) >= len(emotions.messages) >=
                        pipeline.nodes["face_detector"].stats().get("processed", 0) > 0,
                        timeout=60.0)
        spin_until(executor, lambda: False, timeout=0.5)
        assert ok, pipeline.stats()
        # every frame without an answer is counted by a node (none lost before the first)
        account = account_frames(n, len(emotions.messages), pipeline.stats())
        assert account.measured and account.accounted == account.dropped, account
    finally:
        pipeline.destroy()
    assert len(images.messages) == n
    index_of = {header_key(m.header): i for i, m in enumerate(images.messages)}
    assert len(emotions.messages) >= n // 2
    matched = 0
    for msg in emotions.messages:
        i = index_of[header_key(msg.header)]
        required = [t.box for t in sample_clip.ground_truth(i) if t.required()]
        found = [roi(f.box) for f in msg.faces]
        for box in required:
            assert max((iou(box, f) for f in found), default=0) > 0.5, (i, box, found)
            matched += 1
    assert matched >= n // 2


def test_pipeline_arguments_map_to_node_parameters():
    from fer_ros.pipeline import build_arg_parser, overrides_from_args, split_ros_args

    ours, ros = split_ros_args(["--source", "0", "--no-loop", "--detector", "haar",
                                "--model", "m.tflite", "--fps", "7", "--ros-args", "-p",
                                "max_frames:=5"])
    assert ros == ["-p", "max_frames:=5"]
    over = overrides_from_args(build_arg_parser().parse_args(ours))
    assert over["camera"] == {"source": "0", "loop": False, "fps": 7.0}
    assert over["face_detector"] == {"detector": "haar"}
    assert over["emotion"] == {"model_path": "m.tflite"}
    assert over["annotator"] == {}
    plain = overrides_from_args(build_arg_parser().parse_args([]))
    assert all(v == {} for v in plain.values())   # the params file decides


def test_pipeline_namespace_and_params_file(ros_context, tmp_path):
    from fer_ros.pipeline import Pipeline

    params = tmp_path / "p.yaml"
    params.write_text("/**/camera:\n  ros__parameters:\n    frame_id: from_file\n"
                      "    fps: 7.0\n/**/face_detector:\n  ros__parameters:\n"
                      "    max_faces: 3\n")
    pipe = Pipeline(params, {"camera": {"fps": 9.0}}, namespace="cam1", context=ros_context,
                    nodes=("camera", "face_detector"))
    try:
        cam, det = pipe.nodes["camera"], pipe.nodes["face_detector"]
        assert cam.get_fully_qualified_name() == "/cam1/camera"
        assert cam.param("frame_id") == "from_file"      # from the file
        assert cam.param("fps") == 9.0                    # override wins over the file
        assert det.param("max_faces") == 3
        assert det.count_publishers("/cam1/image_raw") == 1
    finally:
        pipe.destroy()


def test_pipeline_missing_params_file_is_a_clear_error(ros_context, tmp_path):
    from fer_ros.errors import StartupError
    from fer_ros.pipeline import Pipeline

    with pytest.raises(StartupError, match="nope.yaml"):
        Pipeline(tmp_path / "nope.yaml", context=ros_context)


def test_demo_runs_to_the_end_and_writes_a_video(tmp_path, emotion_model):
    import os
    import subprocess
    import sys

    from conftest import REPO

    out = tmp_path / "annotated.avi"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run(
        [sys.executable, "-m", "fer_ros.demo", "--max-frames", "12", "--fps", "20",
         "--output", str(out), "--model", str(emotion_model)],
        capture_output=True, text=True, timeout=120, cwd=str(tmp_path), env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [ln for ln in proc.stdout.splitlines() if "faces:" in ln]
    assert 6 <= len(lines) <= 12
    assert any(re.search(r"#\d+ \w+ \d\.\d\d", ln) for ln in lines)
    assert "demo summary" in proc.stdout and "12 frames published" in proc.stdout
    assert "latency capture -> emotions" in proc.stdout
    cap = cv2.VideoCapture(str(out))
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == len(lines)


@pytest.mark.parametrize("interval_ms", [100.0, 0.0])
def test_detector_searches_beside_and_follows_faces_on_every_frame(
        ros_context, executor, helper_node, astronaut_bgr, interval_ms):
    """Default: the first frame is searched, close-ups follow the face on every later frame
    while the search runs beside them; search_interval_ms 0 searches every frame and follows
    nothing.  Same face and id either way."""
    from fer_ros.nodes.face_detector_node import FaceDetectorNode
    from fer_ros.ros_image import bgr_to_image_msg

    node = FaceDetectorNode(context=ros_context, parameter_overrides=[
        Parameter("tracker_min_hits", value=2),
        Parameter("search_interval_ms", value=interval_ms), Parameter("qos_depth", value=10)])
    executor.add_node(node)
    pub = helper_node.create_publisher(Image, "image_raw", RELIABLE)
    faces = Collector(helper_node, FaceDetectionArray, "faces", RELIABLE)
    assert spin_until(executor, lambda: pub.get_subscription_count() >= 1
                      and node.count_subscribers("/faces") >= 1)
    n = 8
    for i in range(n):
        frame, _ = composite_frame(astronaut_bgr, [(40 + 2 * i, 100)])
        msg = bgr_to_image_msg(frame)
        msg.header.stamp.sec = 1
        msg.header.stamp.nanosec = 40_000_000 * i
        pub.publish(msg)
        assert spin_until(executor, lambda: len(faces.messages) > i, timeout=20)
    assert all(len(m.faces) == 1 for m in faces.messages)
    assert len({m.faces[0].id for m in faces.messages}) == 1
    search = node._search
    assert search.frames == n
    if interval_ms:
        assert search.closeups == n - 1 and search.searches >= 1 and not search.every_frame
    else:
        assert (search.searches, search.closeups) == (n, 0)


def test_annotator_skips_work_without_subscribers(ros_context, executor, helper_node):
    from fer_ros.nodes.annotator_node import AnnotatorNode
    from fer_ros.ros_image import bgr_to_image_msg

    node = AnnotatorNode(context=ros_context)
    executor.add_node(node)
    img_pub = helper_node.create_publisher(Image, "image_raw", RELIABLE)
    emo_pub = helper_node.create_publisher(EmotionArray, "emotions", RELIABLE)
    assert spin_until(executor, lambda: img_pub.get_subscription_count() >= 1
                      and emo_pub.get_subscription_count() >= 1)

    def send(sec):
        img = bgr_to_image_msg(np.full((48, 64, 3), 90, np.uint8))
        img.header.stamp.sec = sec
        emo = EmotionArray()
        emo.header = img.header
        img_pub.publish(img)
        emo_pub.publish(emo)

    send(1)
    assert spin_until(executor, lambda: node.stats().get("skipped_no_subscribers", 0) == 1)
    assert node.stats().get("published", 0) == 0
    # only the compressed output is wanted: it alone is built and published
    jpegs = Collector(helper_node, CompressedImage, "image_annotated/compressed", RELIABLE)
    assert spin_until(executor, lambda: node.count_subscribers(
        "/image_annotated/compressed") >= 1)
    send(2)
    assert spin_until(executor, lambda: len(jpegs.messages) == 1)
    assert node.stats()["published"] == 1 and node.stats()["skipped_no_subscribers"] == 1
