"""Integration test: two real faces swap places in front of the real face_detector -> emotion.

The scene (rendered here, 640x480, stamped at 15 fps): two faces cut from the astronaut photo,
distinguishable by size, mirroring and tint. Face A (large, in front) starts on the left,
face B (smaller, mirrored, warmer, behind and a bit lower) on the right; they glide past each
other (eased motion, fastest where they cross) and end on the opposite sides. Where they
cross, A's chin covers B's eyes and BlazeFace loses B for a few frames, so the tracker has to
carry B's track through the gap (constant-velocity prediction, ``tracker_max_misses``) and
give it back to B on the other side of A.

Each face also flickers between two lighting "looks" (bright / dim, every third frame): A is
mostly bright, B mostly dim. The lighting is steady within QUIET frames of the crossing: with
EmotionSmoother's time-based weights, the first observation after a gap gets the weight of
the whole gap (1 - exp(-dt / time_constant_s)), so one contrary look right after B's occlusion
flips B's smoothed label and a few frames later flips it back (2 changes; seen with QUIET = 0).
This test covers flicker while a face is seen, not that case.

Besides the project's emotion model (conftest's ``emotion_model``: the shipped model when
present, else the tiny test CNN, whose raw label does not change on these faces), a second
emotion node runs a model built here that reads only the crop's mean brightness (bright ->
happy, dim -> neutral), so its raw labels are known to flicker and its smoothed labels must
not.

Frames go in one at a time from a helper node (the next one once both emotion outputs for the
previous one arrived and the detector's search beside, if one started, is done, and not
before its time at 15 fps, so no frame is dropped and the search schedule, a share of the
CPU's time, sees a camera's pace: the test is deterministic) through
FaceDetectorNode (default tracker parameters) and two EmotionNodes (time_constant_s 0.5,
switch_margin 0.1). Checked:

* every output header (faces, both emotions) equals its input image's header, in order;
* each face keeps one track id from the first frame to the last (ids mapped to faces by the
  nearest ground-truth face centre), the two ids differ, and no other id ever appears (B gets
  its own id back after the occlusion, nothing is re-created or reused);
* ``confirmed`` and ``tracked_ids`` list both ids from the ``tracker_min_hits``-th frame on,
  also while B is hidden; every EmotionArray carries the detector's ids, boxes and
  tracked_ids, face for face;
* the published smoothed scores/labels are what EmotionSmoother gives for the raw scores per
  face id over the header stamps (not the wall clock);
* brightness model: the raw label of each face flickers (>= 10 changes), the smoothed label
  changes at most once and ends on the face's majority look (A happy, B neutral);
* project model: its smoothed label changes at most once per face, and fewer times than the
  raw label whenever the raw label changes more than once.
"""

from __future__ import annotations

import json
import math
import os
import time

import numpy as np
import pytest
from conftest import ASTRONAUT_FACE_IN_PATCH, ASTRONAUT_PATCH, CLASS_NAMES, Collector, spin_until
from fer_ros.msg import EmotionArray, FaceDetectionArray
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image

from fer_ros.boxes import pairwise_iou
from fer_ros.frame_matching import header_key

RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)

# ------------------------------------------------------------------------------ the scene
WIDTH, HEIGHT = 640, 480
FPS = 15
STAMP0_NS = 1_700_000_000 * 10**9   # header stamp of frame 0; frame i is i / FPS later
FRAME_ID = "swap_cam"
HOLD = 6                    # still frames before and after the crossing
MOVE = 48                   # frames of the crossing
N_FRAMES = HOLD + MOVE + HOLD
MIDDLE = HOLD + MOVE / 2    # frame where the faces pass each other
X_START, X_END = 140.0, 500.0   # face centre x: A goes start -> end, B end -> start
Y_A, Y_B = 184.0, 256.0     # face centre y: A (front) a little above B (behind)
SCALE_A, SCALE_B = 0.9, 0.7     # sprite scale: A's face box ~100 px, B's ~78 px
TINT_B = (0.85, 1.0, 1.15)      # B, G, R gains: B is warmer
DIM_GAIN = 0.6              # the dim lighting look
CROSSING = 6                # frames either side of MIDDLE in which the faces overlap
QUIET = CROSSING            # steady lighting within this many frames of MIDDLE (see above)
NOISE_SIGMA = 3.0           # sensor noise (grey levels), seeded per frame
BACKGROUND = 110

FACE_A, FACE_B = 0, 1
HAPPY, NEUTRAL = CLASS_NAMES.index("happy"), CLASS_NAMES.index("neutral")
# The brightness model labels a bright face happy and a dim one neutral; A is mostly bright,
# B mostly dim.
MAJORITY_LABEL = {FACE_A: "happy", FACE_B: "neutral"}

# Graph parameters under test
TIME_CONSTANT_S = 0.5
SWITCH_MARGIN = 0.1


def _ease(u: float) -> float:
    """0 -> 1 with zero speed at both ends and the highest speed in the middle."""
    u = min(max(u, 0.0), 1.0)
    return (1.0 - math.cos(math.pi * u)) / 2.0


def face_centres(i: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """Centres of the face boxes of A and B in frame ``i``."""
    u = _ease((i - HOLD) / MOVE)
    return ((X_START + (X_END - X_START) * u, Y_A), (X_END + (X_START - X_END) * u, Y_B))


def is_dim(face: int, i: int) -> bool:
    """Lighting look of a face in frame i: A is dim on every third frame, B bright on those."""
    minority = i % 3 == 2 and abs(i - MIDDLE) > QUIET
    return minority if face == FACE_A else not minority


class FaceSprite:
    """A head cut from the astronaut photo with a soft elliptical mask, pasted at any place."""

    def __init__(self, astronaut: np.ndarray, scale: float, mirrored: bool,
                 tint=(1.0, 1.0, 1.0)) -> None:
        import cv2

        px, py, pw, ph = ASTRONAUT_PATCH
        patch = astronaut[py:py + ph, px:px + pw].astype(np.float32)
        fx, fy, fw, fh = ASTRONAUT_FACE_IN_PATCH
        if mirrored:
            patch = patch[:, ::-1]
            fx = pw - fx - fw
        yy, xx = np.mgrid[0:ph, 0:pw].astype(np.float32)
        # head ellipse (hair included), edge feathered over ~12 % of the radius
        r = np.hypot((xx - (fx + fw / 2)) / (0.78 * fw),
                     (yy - (fy + 0.38 * fh)) / (0.92 * fh))
        alpha = np.clip((1.0 - r) / 0.12, 0.0, 1.0)
        n = int(round(pw * scale))
        self.rgb = cv2.resize(np.clip(patch * np.float32(tint), 0, 255), (n, n),
                              interpolation=cv2.INTER_AREA)
        self.alpha = cv2.resize(alpha, (n, n), interpolation=cv2.INTER_AREA)[:, :, None]
        self.face = (fx * scale, fy * scale, fw * scale, fh * scale)  # box inside the sprite

    def paste(self, frame: np.ndarray, centre, gain: float = 1.0):
        """Blend the sprite into ``frame`` (float32) with its face box centred at ``centre``.

        Returns the face box (x, y, w, h) in frame pixels.
        """
        fx, fy, fw, fh = self.face
        x0 = int(round(centre[0] - fx - fw / 2))
        y0 = int(round(centre[1] - fy - fh / 2))
        n = self.rgb.shape[0]
        h, w = frame.shape[:2]
        cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(w, x0 + n), min(h, y0 + n)
        a = self.alpha[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
        s = self.rgb[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0] * np.float32(gain)
        region = frame[cy0:cy1, cx0:cx1]
        region[:] = region * (1.0 - a) + np.clip(s, 0, 255) * a
        return (x0 + fx, y0 + fy, fw, fh)


def render_scene(astronaut: np.ndarray):
    """All frames (bgr8) and the true face boxes [(box A, box B)] of each."""
    face_a = FaceSprite(astronaut, SCALE_A, mirrored=False)
    face_b = FaceSprite(astronaut, SCALE_B, mirrored=True, tint=TINT_B)
    frames, truth = [], []
    for i in range(N_FRAMES):
        centre_a, centre_b = face_centres(i)
        frame = np.full((HEIGHT, WIDTH, 3), BACKGROUND, np.float32)
        box_b = face_b.paste(frame, centre_b, DIM_GAIN if is_dim(FACE_B, i) else 1.0)
        box_a = face_a.paste(frame, centre_a, DIM_GAIN if is_dim(FACE_A, i) else 1.0)  # in front
        frame += np.random.default_rng(i).normal(0.0, NOISE_SIGMA, frame.shape).astype(np.float32)
        frames.append(np.clip(np.rint(frame), 0, 255).astype(np.uint8))
        truth.append((box_a, box_b))
    return frames, truth


def crop_mean(frame: np.ndarray, box) -> float:
    """Mean of the model input (48x48 grey, 0..1) for the crop ``box`` of ``frame``."""
    from fer_ros.preprocessing import to_model_input

    x, y, w, h = (int(round(v)) for v in box)
    return float(to_model_input([frame[y:y + h, x:x + w]]).mean() / 255.0)


def build_brightness_model(path, threshold: float, slope: float = 40.0):
    """A .tflite emotion model (+ card) that looks only at the crop's mean brightness m.

    Logits: happy = slope * (m - threshold), neutral = -slope * (m - threshold), the other
    classes -4: a crop brighter than ``threshold`` is (almost surely) happy, a darker one
    neutral.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    tf = pytest.importorskip("tensorflow", reason="the brightness model is built with "
                             "TensorFlow, not in this venv (runtime set)")
    from tensorflow import keras

    model = keras.Sequential([
        keras.Input((48, 48, 1)),
        keras.layers.Rescaling(1.0 / 255.0),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(len(CLASS_NAMES), activation="softmax"),
    ])
    weights = np.zeros((1, len(CLASS_NAMES)), np.float32)
    bias = np.full(len(CLASS_NAMES), -4.0, np.float32)
    weights[0, HAPPY], bias[HAPPY] = slope, -slope * threshold
    weights[0, NEUTRAL], bias[NEUTRAL] = -slope, slope * threshold
    model.layers[-1].set_weights([weights, bias])
    path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    card = {"class_names": list(CLASS_NAMES),
            "input": {"shape": [48, 48, 1], "dtype": "float32", "range": [0, 255],
                      "color": "grayscale"},
            "note": f"test model of test_tracking_graph.py: happy if the crop's mean "
                    f"brightness > {threshold:.3f}, else neutral"}
    path.with_name(path.name + ".json").write_text(json.dumps(card, indent=2))
    return path


@pytest.fixture(scope="module")
def swap_scene(astronaut_bgr):
    return render_scene(astronaut_bgr)


@pytest.fixture(scope="module")
def brightness_model(tmp_path_factory, swap_scene):
    """The brightness model, its threshold halfway between the dim and the bright faces."""
    frames, truth = swap_scene
    looks = {True: [], False: []}    # dim? -> crop means
    for i in (0, 2, N_FRAMES - 1, N_FRAMES - 3):      # both looks of both faces, apart
        for face in (FACE_A, FACE_B):
            looks[is_dim(face, i)].append(crop_mean(frames[i], truth[i][face]))
    darkest_bright, brightest_dim = min(looks[False]), max(looks[True])
    assert darkest_bright - brightest_dim > 0.1, looks   # the two looks are well apart
    threshold = (darkest_bright + brightest_dim) / 2.0
    return build_brightness_model(tmp_path_factory.mktemp("bright") / "brightness.tflite",
                                  threshold)


# ------------------------------------------------------------------------------ helpers
def stamp_of(i: int):
    ns = STAMP0_NS + round(i * 1e9 / FPS)
    return ns // 10**9, ns % 10**9


def roi(box):
    return (box.x_offset, box.y_offset, box.width, box.height)


def centre(box):
    return (box[0] + box[2] / 2.0, box[1] + box[3] / 2.0)


def box_iou(a, b) -> float:
    """IoU of two (x, y, w, h) boxes."""
    return float(pairwise_iou(np.array([a], float), np.array([b], float))[0, 0])


def nearest_face(box, truth_boxes):
    """(index of the true face whose centre is nearest to the box's, distance / face size)."""
    cx, cy = centre(box)
    dists = [math.hypot(cx - tx, cy - ty) / t[2]
             for t, (tx, ty) in ((t, centre(t)) for t in truth_boxes)]
    k = int(np.argmin(dists))
    return k, dists[k]


def label_changes(labels) -> int:
    return sum(a != b for a, b in zip(labels, labels[1:]))


def image_msg(frame: np.ndarray, i: int) -> Image:
    msg = Image()
    msg.header.stamp.sec, msg.header.stamp.nanosec = stamp_of(i)
    msg.header.frame_id = FRAME_ID
    msg.height, msg.width = frame.shape[:2]
    msg.encoding = "bgr8"
    msg.is_bigendian = 0
    msg.step = frame.shape[1] * 3
    msg.data = frame.tobytes()
    return msg


def replay_smoothing(messages, num_classes):
    """Feed the raw scores of ``messages`` (EmotionArray, in order) through a fresh
    EmotionSmoother exactly as the contract says (per face id, header stamps, forget the
    ids that are gone) and return [(label index, scores)] per face per message."""
    from fer_ros.smoothing import EmotionSmoother

    smoother = EmotionSmoother(num_classes, time_constant_s=TIME_CONSTANT_S,
                               switch_margin=SWITCH_MARGIN)
    out = []
    for msg in messages:
        stamp_s = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
        row = []
        for emo in msg.faces:
            s = smoother.update(int(emo.face_id), stamp_s, np.asarray(emo.raw_scores))
            row.append((s.label_index, s.scores))
        smoother.forget(set(msg.tracked_ids) | {int(e.face_id) for e in msg.faces})
        out.append(row)
    return out


# ------------------------------------------------------------------------------ the test
def test_two_faces_swapping_places_keep_their_ids_and_steady_labels(
        ros_context, executor, helper_node, emotion_model, brightness_model, swap_scene):
    from fer_ros.emotion_classifier import read_card
    from fer_ros.nodes.emotion_node import EmotionNode
    from fer_ros.nodes.face_detector_node import FaceDetectorNode

    frames, truth = swap_scene
    # the scene really makes the faces cross and overlap (not only pass at a distance)
    assert max(box_iou(a, b) for a, b in truth) > 0.05
    assert truth[0][FACE_A][0] < truth[0][FACE_B][0]
    assert truth[-1][FACE_A][0] > truth[-1][FACE_B][0]

    faces = Collector(helper_node, FaceDetectionArray, "faces", RELIABLE)
    emotions = Collector(helper_node, EmotionArray, "emotions", RELIABLE)
    bright_emotions = Collector(helper_node, EmotionArray, "emotions_brightness", RELIABLE)
    image_pub = helper_node.create_publisher(Image, "image_raw", RELIABLE)

    P = Parameter
    smoothing = [P("time_constant_s", value=TIME_CONSTANT_S),
                 P("switch_margin", value=SWITCH_MARGIN)]
    detector = FaceDetectorNode(context=ros_context)          # default detector and tracker
    emotion = EmotionNode(context=ros_context, parameter_overrides=[
        P("model_path", value=str(emotion_model))] + smoothing)
    bright = EmotionNode("emotion_brightness", context=ros_context,
                         cli_args=["--ros-args", "-r", "emotions:=emotions_brightness"],
                         parameter_overrides=[P("model_path", value=str(brightness_model))]
                         + smoothing)
    for node in (detector, emotion, bright):
        executor.add_node(node)
    assert spin_until(executor, lambda: image_pub.get_subscription_count() >= 1
                      and helper_node.count_subscribers("/faces") >= 3
                      and helper_node.count_publishers("/emotions") >= 1
                      and helper_node.count_publishers("/emotions_brightness") >= 1,
                      timeout=15.0)
    spin_until(executor, lambda: False, timeout=0.3)   # let the other ends match too

    def stats():
        return detector.stats(), emotion.stats(), bright.stats()

    # ---- run: one frame at a time at 15 fps, the next once both emotion results are in and
    # the detector's search beside (if one started) is done, as on a CPU that finishes it
    # within the camera's frame interval
    sent = []
    start = time.monotonic()
    for i, frame in enumerate(frames):
        msg = image_msg(frame, i)
        sent.append(header_key(msg.header))
        # at the camera's rate in wall time too: the search schedule is a share of the CPU's
        # time, so frames sent faster would get fewer searches than a camera's
        time.sleep(max(0.0, start + i / FPS - time.monotonic()))
        image_pub.publish(msg)
        assert spin_until(executor, lambda: len(emotions.messages) > i
                          and len(bright_emotions.messages) > i, timeout=15.0), (i, stats())
        assert detector._search.wait_for_search(15.0)
    spin_until(executor, lambda: False, timeout=0.2)   # nothing more may come

    # ---- headers: every frame processed once, in order, with the input's stamp and frame_id
    assert [header_key(m.header) for m in faces.messages] == sent, stats()
    assert [header_key(m.header) for m in emotions.messages] == sent
    assert [header_key(m.header) for m in bright_emotions.messages] == sent
    for node in (detector, emotion, bright):
        s = node.stats()
        assert s.get("dropped", 0) == s.get("rejected", 0) == s.get("failed", 0) == 0, s

    # ---- ids follow the faces
    min_hits = detector.param("tracker_min_hits")
    ids_of = {FACE_A: set(), FACE_B: set()}
    face_of_frame = []          # per frame: list of true-face indices, one per detected face
    missed = []
    for i, msg in enumerate(faces.messages):
        boxes = [roi(f.box) for f in msg.faces]
        mapped = []
        for face, box in zip(msg.faces, boxes):
            k, dist = nearest_face(box, truth[i])
            assert dist < 0.35, (i, box, truth[i])       # a real face, not a merged box
            assert face.id >= 1, (i, box)
            ids_of[k].add(face.id)
            mapped.append(k)
            # once confirmed, always confirmed (both faces are seen from frame 0 on)
            assert face.confirmed == (i >= min_hits - 1), (i, k, face.confirmed)
        assert len(set(mapped)) == len(mapped), (i, boxes, truth[i])   # one box per face
        face_of_frame.append(mapped)
        if len(mapped) < 2:
            missed.append(i)
            # only where the faces overlap may one of them be lost
            assert abs(i - MIDDLE) <= CROSSING, (i, boxes, truth[i])
    assert len(ids_of[FACE_A]) == 1 and len(ids_of[FACE_B]) == 1, (ids_of, missed)
    (id_a,), (id_b,) = ids_of[FACE_A], ids_of[FACE_B]
    assert id_a != id_b
    both = sorted((id_a, id_b))
    for i, msg in enumerate(faces.messages):
        # confirmed ids, including a face hidden in this frame; nothing else ever appears
        expected = both if i >= min_hits - 1 else []
        assert sorted(msg.tracked_ids) == expected, (i, list(msg.tracked_ids), missed)

    # ---- emotions carry the detector's ids, boxes and tracked_ids, face for face
    class_names = list(read_card(emotion_model)["class_names"])
    for collected, names in ((emotions, class_names), (bright_emotions, list(CLASS_NAMES))):
        for emo_msg, face_msg in zip(collected.messages, faces.messages):
            assert list(emo_msg.class_names) == names
            assert list(emo_msg.tracked_ids) == list(face_msg.tracked_ids)
            assert [e.face_id for e in emo_msg.faces] == [f.id for f in face_msg.faces]
            assert [roi(e.box) for e in emo_msg.faces] == [roi(f.box) for f in face_msg.faces]
        # smoothed = EmotionSmoother over the raw scores, per id, on header stamps
        for i, (emo_msg, row) in enumerate(zip(collected.messages,
                                               replay_smoothing(collected.messages,
                                                                len(names)))):
            for emo, (label_index, scores) in zip(emo_msg.faces, row):
                assert emo.label == names[label_index], (i, emo.face_id)
                np.testing.assert_allclose(emo.scores, scores, atol=1e-6)

    def labels_per_face(collected):
        """face -> [(frame index, raw label, smoothed label)] over the frames it was found in."""
        seq = {FACE_A: [], FACE_B: []}
        for i, (msg, mapped) in enumerate(zip(collected.messages, face_of_frame)):
            for emo, k in zip(msg.faces, mapped):
                seq[k].append((i, emo.raw_label, emo.label))
        return seq

    def look_label(k, i):
        return "neutral" if is_dim(k, i) else "happy"

    # ---- brightness model: the raw label flickers with the lighting, the smoothed one not
    for k, seq in labels_per_face(bright_emotions).items():
        raw, smoothed = [r for _, r, _ in seq], [s for _, _, s in seq]
        # the model does what it is built for (on crops of faces that are apart)
        assert all(r == look_label(k, i) for i, r, _ in seq if abs(i - MIDDLE) > CROSSING), \
            (k, [(i, r, look_label(k, i)) for i, r, _ in seq])
        assert label_changes(raw) >= 10, (k, raw)
        assert label_changes(smoothed) <= 1, (k, smoothed, raw)
        assert smoothed[-1] == MAJORITY_LABEL[k], (k, smoothed)

    # ---- the project's model: the smoothed label is steady as well
    for k, seq in labels_per_face(emotions).items():
        raw, smoothed = [r for _, r, _ in seq], [s for _, _, s in seq]
        assert label_changes(smoothed) <= 1, (k, smoothed, raw)
        if label_changes(raw) > 1:
            assert label_changes(smoothed) < label_changes(raw), (k, smoothed, raw)
