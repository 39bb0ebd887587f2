"""ROS4HRI (REP-155) output, end to end on a real rclpy graph.

``fer_ros pipeline --hri``'s face_detector and emotion nodes (built by fer_ros.pipeline from
the parsed ``--hri`` option, the real BlazeFace detector and the project's emotion model) get
frames with faces coming and going; a listener that knows only REP-155's topic names and the
hri_msgs / sensor_msgs types (what libhri's HRIListener does: follow /humans/faces/tracked and
subscribe to each face's topics) checks what a ROS4HRI consumer sees:

* the tracked ids are valid REP-155 ids (ROS name tokens), one per face, never reused;
* each face's roi is its box normalised to the frame, cropped and aligned are 128x128 bgr8
  images, expression is a REP-155 constant with confidence, valence and arousal in range and
  valence/arousal matching the expression's direction;
* every message carries its frame's header;
* when a face leaves, it leaves the tracked list and its four topics lose their publisher,
  and nothing more arrives on them; deactivating the emotion node ends /humans/faces/tracked
  with an empty list.

Also here: ``hri`` on without hri_msgs fails with one line saying what to install (a node
process with hri_msgs hidden; needs no hri_msgs at all).

Needs hri_msgs (``make hri-msgs`` builds it from ../shared/ros/sources; ``make test`` does
that where the sources are); skips with the reason without it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ASTRONAUT_FACE_IN_PATCH, ASTRONAUT_PATCH, REPO, spin_until
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image

from fer_ros.frame_matching import header_key
from fer_ros.hri.expressions import EXPRESSIONS, circumplex_points
from fer_ros.pipeline import Pipeline, build_arg_parser, overrides_from_args
from fer_ros.ros_image import bgr_to_image_msg

SHARED_HRI_MSGS = REPO.parent / "shared" / "ros" / "sources" / "hri_msgs-2.0.0.tar.gz"
RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
ROS_TOKEN = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
SUBTOPICS = ("roi", "cropped", "aligned", "expression")

WIDTH, HEIGHT, FPS = 640, 480, 15
STAMP0_NS = 1_700_000_000 * 10**9
FRAME_ID = "hri_cam"
# (frames, face positions): A alone, A and B, B alone (A leaves), nobody (B leaves)
POS_A, POS_B = (40, 60), (380, 200)
PHASES = ((8, (POS_A,)), (8, (POS_A, POS_B)), (10, (POS_B,)), (10, ()))


def hri_msgs_or_skip():
    try:
        import hri_msgs.msg
    except ImportError as exc:
        where = ("`make hri-msgs` builds it from " + str(SHARED_HRI_MSGS)
                 if SHARED_HRI_MSGS.is_file()
                 else f"{SHARED_HRI_MSGS.parent} is absent, so it cannot be built here")
        pytest.skip(f"hri_msgs not installed ({exc}): {where}")
    return hri_msgs.msg


def frames_and_boxes(astronaut):
    """The frames (bgr8) and, per frame, the true face boxes by face name ('A', 'B')."""
    px, py, pw, ph = ASTRONAUT_PATCH
    fx, fy, fw, fh = ASTRONAUT_FACE_IN_PATCH
    patch = astronaut[py:py + ph, px:px + pw]
    frames, truth = [], []
    for count, positions in PHASES:
        for k in range(count):
            frame = np.full((HEIGHT, WIDTH, 3), 110, np.uint8)
            boxes = {}
            for name, (x, y) in zip("AB" if POS_A in positions else "B", positions):
                x += 2 * k                                  # a little motion
                frame[y:y + ph, x:x + pw] = patch
                boxes[name] = (x + fx, y + fy, fw, fh)
            frames.append(frame)
            truth.append(boxes)
    return frames, truth


class Rep155Listener:
    """Knows REP-155 only: follows /humans/faces/tracked and each tracked face's topics."""

    def __init__(self, node, msgs) -> None:
        self.node, self.msgs = node, msgs
        self.tracked: list = []                       # every IdsList received
        self.faces: dict[str, dict[str, list]] = {}   # face id -> subtopic -> messages
        self._subs: list = []
        node.create_subscription(msgs.IdsList, "/humans/faces/tracked", self._on_tracked,
                                 RELIABLE)

    def subscribed(self) -> bool:
        """Every face topic followed so far has matched its publisher."""
        return all(sub.get_publisher_count() >= 1 for sub in self._subs)

    def _on_tracked(self, msg) -> None:
        self.tracked.append(msg)
        types = {"roi": self.msgs.NormalizedRegionOfInterest2D, "cropped": Image,
                 "aligned": Image, "expression": self.msgs.Expression}
        for face_id in msg.ids:
            if face_id in self.faces:
                continue
            self.faces[face_id] = {sub: [] for sub in SUBTOPICS}
            for sub in SUBTOPICS:
                self._subs.append(self.node.create_subscription(
                    types[sub], f"/humans/faces/{face_id}/{sub}",
                    self.faces[face_id][sub].append, RELIABLE))


def face_publishers(node, face_id: str) -> int:
    """How many publishers the graph knows on the face's four topics."""
    return sum(node.count_publishers(f"/humans/faces/{face_id}/{sub}") for sub in SUBTOPICS)


def stamp_of(i: int):
    ns = STAMP0_NS + round(i * 1e9 / FPS)
    return ns // 10**9, ns % 10**9


def test_pipeline_hri_option_sets_both_nodes():
    args = build_arg_parser().parse_args(["--hri"])
    overrides = overrides_from_args(args)
    assert overrides["emotion"]["hri"] is True
    assert overrides["face_detector"]["box_crops"] is True
    plain = overrides_from_args(build_arg_parser().parse_args([]))
    assert "hri" not in plain["emotion"] and "box_crops" not in plain["face_detector"]


def test_rep155_listener_sees_faces_come_and_go(ros_context, executor, helper_node,
                                                astronaut_bgr, emotion_model):
    msgs = hri_msgs_or_skip()
    overrides = overrides_from_args(build_arg_parser().parse_args(["--hri"]))
    overrides["emotion"]["model_path"] = str(emotion_model)
    overrides["emotion"]["frame_budget_ms"] = 60000.0   # a loaded machine drops no frame
    # search every frame before answering it: a face is tracked from the frame it enters,
    # however long a loaded machine would keep the search worker from finding it
    overrides["face_detector"]["search_interval_ms"] = 0.0
    pipeline = Pipeline(None, overrides, context=ros_context,
                        nodes=("face_detector", "emotion"))
    for node in pipeline.nodes.values():
        executor.add_node(node)
    listener = Rep155Listener(helper_node, msgs)
    image_pub = helper_node.create_publisher(Image, "image_raw", RELIABLE)
    assert spin_until(executor, lambda: image_pub.get_subscription_count() >= 1 and
                      helper_node.count_publishers("/humans/faces/tracked") >= 1)
    # the tracked publisher must have matched the listener before the first frame
    emotion = pipeline.nodes["emotion"]
    assert spin_until(executor, lambda: all(
        p.get_subscription_count() >= 1 for p in emotion.publishers
        if p.topic_name == "/humans/faces/tracked"))

    frames, truth = frames_and_boxes(astronaut_bgr)
    headers = []
    tracked_per_frame: list[list[str]] = []
    publishers_after_leaving: dict[str, int] = {}
    for i, frame in enumerate(frames):
        msg = bgr_to_image_msg(frame)
        msg.header.stamp.sec, msg.header.stamp.nanosec = stamp_of(i)
        msg.header.frame_id = FRAME_ID
        headers.append(header_key(msg.header))
        image_pub.publish(msg)
        assert spin_until(executor, lambda: any(header_key(t.header) == headers[-1]
                                                for t in listener.tracked[-3:])), \
            f"no /humans/faces/tracked for frame {i}"
        tracked_per_frame.append(list(listener.tracked[-1].ids))
        # a new face's topics match before the next frame: on a loaded machine discovery
        # would otherwise let that face's first frames go by unseen
        spin_until(executor, listener.subscribed, timeout=3.0)
        # a face that just left the list: its topics have no publisher any more
        gone = set().union(*tracked_per_frame[:-1]) - set(tracked_per_frame[-1]) \
            if i else set()
        for face_id in gone - set(publishers_after_leaving):
            spin_until(executor, lambda: face_publishers(helper_node, face_id) == 0,
                       timeout=3.0)   # the graph learns of destroyed publishers by discovery
            publishers_after_leaving[face_id] = face_publishers(helper_node, face_id)
    counts_at_end = {f: {s: len(m) for s, m in subs.items()}
                     for f, subs in listener.faces.items()}
    spin_until(executor, lambda: False, timeout=1.0)        # anything late would show now

    # -- the tracked ids: one per face, valid, never reused ---------------------------------
    ever = [f for ids in tracked_per_frame for f in ids]
    assert len(set(ever)) == 2, f"expected 2 faces, tracked lists: {tracked_per_frame}"
    for face_id in set(ever):
        assert ROS_TOKEN.match(face_id), face_id
        present = [i for i, ids in enumerate(tracked_per_frame) if face_id in ids]
        assert present == list(range(present[0], present[-1] + 1)), \
            f"{face_id} left and came back: {present}"
    assert tracked_per_frame[-1] == [], "faces still tracked after everyone left"
    first_a = next(i for i, ids in enumerate(tracked_per_frame) if ids)
    id_a = tracked_per_frame[first_a][0]
    id_b = next(f for f in set(ever) if f != id_a)
    last_a = max(i for i, ids in enumerate(tracked_per_frame) if id_a in ids)
    assert last_a < sum(p[0] for p in PHASES[:3]), "A was still tracked when B left"
    assert last_a >= sum(p[0] for p in PHASES[:2]), "A left before it left the frames"

    # -- per face: roi, images, expression, headers -----------------------------------------
    points = dict(zip(EXPRESSIONS, circumplex_points(EXPRESSIONS)))
    frame_index = {h: i for i, h in enumerate(headers)}
    for face_id, name in ((id_a, "A"), (id_b, "B")):
        got = listener.faces[face_id]
        for sub in SUBTOPICS:   # (a face's first frame goes by while the listener subscribes)
            assert len(got[sub]) >= 3, f"{face_id} ({name}): {len(got[sub])} on {sub}"
        for roi in got["roi"]:
            i = frame_index[header_key(roi.header)]
            x, y, w, h = truth[i][name]
            expected = (x / WIDTH, y / HEIGHT, (x + w) / WIDTH, (y + h) / HEIGHT)
            assert np.allclose((roi.xmin, roi.ymin, roi.xmax, roi.ymax), expected,
                               atol=0.04), (face_id, i, roi, expected)
            assert 0.0 <= roi.c <= 1.0 and roi.c >= 0.5
        for sub in ("cropped", "aligned"):
            for img in got[sub]:
                assert header_key(img.header) in frame_index
                assert (img.width, img.height, img.encoding) == (128, 128, "bgr8")
                assert len(img.data) == 128 * 128 * 3
        for expr in got["expression"]:
            assert header_key(expr.header) in frame_index
            assert expr.expression in EXPRESSIONS
            assert getattr(msgs.Expression, expr.expression.upper()) == expr.expression
            assert 0.0 <= expr.confidence <= 1.0
            assert -1.0 <= expr.valence <= 1.0 and -1.0 <= expr.arousal <= 1.0
            # the label is the top class, so valence/arousal lean towards its direction
            px, py = points[expr.expression]
            if (px, py) != (0.0, 0.0) and expr.confidence > 0.5:
                assert expr.valence * px + expr.arousal * py > 0.0, expr

    # -- a face that left: no publisher, nothing more ---------------------------------------
    assert publishers_after_leaving == {id_a: 0, id_b: 0}
    for face_id, subs in listener.faces.items():
        for sub, messages in subs.items():
            assert len(messages) == counts_at_end[face_id][sub], \
                f"{face_id}/{sub} published after its face left"
    tracked_topics = {n for n, _ in helper_node.get_topic_names_and_types()
                      if n.startswith("/humans/faces/")}
    assert tracked_topics <= {"/humans/faces/tracked"} | {
        f"/humans/faces/{f}/{s}" for f in listener.faces for s in SUBTOPICS}

    # -- deactivate: an empty list once more, then no REP-155 publisher at all ---------------
    n_tracked = len(listener.tracked)
    emotion.trigger_deactivate()
    assert spin_until(executor, lambda: len(listener.tracked) > n_tracked)
    assert list(listener.tracked[-1].ids) == []
    assert spin_until(executor, lambda: helper_node.count_publishers(
        "/humans/faces/tracked") == 0, timeout=3.0)


def test_hri_without_hri_msgs_is_one_clear_line(emotion_model):
    """The emotion executable with hri:=true in a Python where hri_msgs cannot be imported:
    exit code 1, one line naming the apt package and the make target, no traceback."""
    code = ("import sys; sys.modules['hri_msgs'] = None  # hide hri_msgs\n"
            "from fer_ros.nodes.emotion_node import main\n"
            "sys.exit(main(sys.argv[1:]))")
    env = dict(os.environ, ROS_DISTRO="kilted", PYTHONPATH=str(REPO))
    proc = subprocess.run(
        [sys.executable, "-c", code, "--ros-args", "-p", "hri:=true",
         "-p", f"model_path:={Path(emotion_model)}"],
        capture_output=True, text=True, timeout=120, env=env, cwd=REPO)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if "cannot start" in line]
    assert len(lines) == 1, output
    assert "ros-kilted-hri-msgs" in lines[0] and "make hri-msgs" in lines[0], lines[0]


def test_odd_faces_messages_are_noted_and_the_rest_published(ros_context, executor,
                                                             helper_node, emotion_model):
    """hri on, faces messages the face_detector does not send: no box crops, box crops that
    do not match the faces or cannot be decoded, no image size, untracked faces. Each is
    counted and warned about; what can be published still is, and nothing fails."""
    from fer_ros.msg import FaceDetection, FaceDetectionArray
    from rclpy.parameter import Parameter

    from fer_ros.nodes.emotion_node import EmotionNode

    msgs = hri_msgs_or_skip()
    node = EmotionNode(context=ros_context, parameter_overrides=[
        Parameter("model_path", value=str(emotion_model)), Parameter("hri", value=True)])
    executor.add_node(node)
    listener = Rep155Listener(helper_node, msgs)
    pub = helper_node.create_publisher(FaceDetectionArray, "faces", RELIABLE)
    assert spin_until(executor, lambda: pub.get_subscription_count() >= 1 and any(
        p.get_subscription_count() >= 1 for p in node.publishers
        if p.topic_name == "/humans/faces/tracked"))
    face = np.full((60, 60, 3), 120, np.uint8)

    def faces_msg(sec, track_id=5, box_crops=1, width=640, box_crop=None):
        msg = FaceDetectionArray()
        msg.header.stamp.sec = sec
        msg.image_width, msg.image_height = width, 480
        f = FaceDetection(id=track_id, confirmed=track_id != 0, score=0.9)
        f.box.x_offset, f.box.y_offset, f.box.width, f.box.height = 64, 48, 64, 48
        msg.faces.append(f)
        msg.crops.append(bgr_to_image_msg(face))
        for _ in range(box_crops):
            msg.box_crops.append(box_crop or bgr_to_image_msg(face[:48]))
        msg.tracked_ids = [track_id] if track_id else []
        return msg

    corrupt = bgr_to_image_msg(face)
    corrupt.data = bytes(10)
    sequence = [faces_msg(1), faces_msg(2, box_crops=0), faces_msg(3, box_crops=2),
                faces_msg(4, box_crop=corrupt), faces_msg(5, width=0),
                faces_msg(6, track_id=0)]
    for k, msg in enumerate(sequence, start=1):
        pub.publish(msg)
        assert spin_until(executor, lambda: node.stats().get("processed", 0) >= k)
        if k == 1:   # the listener subscribes to the face's topics before the rest
            assert spin_until(executor, lambda: len(listener.tracked) >= 1)
            face_id = listener.tracked[0].ids[0]
            assert spin_until(executor, lambda: all(
                p.get_subscription_count() >= 1 for p in node.publishers
                if p.topic_name.startswith(f"/humans/faces/{face_id}/")))
    spin_until(executor, lambda: False, timeout=1.0)
    stats = node.stats()
    assert stats.get("failed", 0) == 0 and stats["processed"] == len(sequence)
    for counter in ("hri_no_box_crops", "hri_box_crops_mismatch", "hri_box_crops_skipped",
                    "hri_no_roi", "hri_untracked_faces"):
        assert stats.get(counter, 0) == 1, (counter, stats)
    assert [list(m.ids) for m in listener.tracked][-1] == []      # the untracked face: none
    assert len({i for m in listener.tracked for i in m.ids}) == 1
    got = {sub: {m.header.stamp.sec for m in listener.faces[face_id][sub]} - {1}
           for sub in SUBTOPICS}
    assert got == {"expression": {2, 3, 4, 5}, "aligned": {2, 3, 4, 5}, "roi": {2, 3, 4},
                   "cropped": {5}}
