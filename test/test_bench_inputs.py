"""The bench's inputs and measurements that need no graph: the hard clip's plan, rendering and
ground truth, the recall rule, params-file values, --graphs parsing, the bare loop."""

from __future__ import annotations

import math

import numpy as np
import pytest
from benchlib import bareloop, hard_clip, inputs, recall
from benchlib.suite import parse_graph
from benchlib.video import write_video


def test_hard_clip_plan_is_deterministic_and_as_described():
    scenes = hard_clip.plan()
    assert scenes == hard_clip.plan()
    assert scenes != hard_clip.plan(seed=hard_clip.SEED + 1)
    assert sum(sc.num_frames for sc in scenes) == int(hard_clip.SECONDS * hard_clip.FPS)
    lengths = [sc.num_frames / hard_clip.FPS for sc in scenes[:-1]]
    assert all(hard_clip.SCENE_SECONDS[0] - 0.02 <= s <= hard_clip.SCENE_SECONDS[1] + 0.02
               for s in lengths)
    faces = [f for sc in scenes for f in sc.faces]
    assert all(1 <= len(sc.faces) <= 5 for sc in scenes)
    assert len({f.id for f in faces}) == len(faces)          # one id per appearance
    assert all(40.0 <= f.size <= 200.0 for f in faces)
    assert any(f.t_on > 0 for f in faces)                     # some appear mid-scene
    assert any(f.mirrored for f in faces) and not all(f.mirrored for f in faces)
    assert len({sc.background for sc in scenes}) >= 5


def test_hard_clip_truth_has_faces_entering_and_leaving():
    frames = hard_clip.truth(hard_clip.plan())
    assert len(frames) == int(hard_clip.SECONDS * hard_clip.FPS)
    counted = [sum(1 for f in fr if f.visible >= recall.COUNTED_VISIBLE) for fr in frames]
    assert max(counted) >= 4 and sum(1 <= n <= 3 for n in counted) > 0.7 * len(frames)
    partial = [f.visible for fr in frames for f in fr if f.visible < recall.COUNTED_VISIBLE]
    assert partial and all(0 < v < 1 for v in partial)       # faces crossing an edge


def test_rendered_faces_sit_at_their_true_boxes():
    # frames of the first scenes: the astronaut's skin tone fills the centre of every
    # counted face box, and the frames are deterministic
    scenes = hard_clip.plan(seconds=2.0)
    frames = list(hard_clip.render(scenes))
    again = list(hard_clip.render(scenes))
    assert all(np.array_equal(a, b) for a, b in zip(frames, again))
    truth = hard_clip.truth(scenes)
    assert len(frames) == len(truth) == 60 and frames[0].shape == (480, 640, 3)
    checked = 0
    for frame, faces in zip(frames, truth):
        for face in faces:
            x, y, w, h = face.box
            if face.visible < 1.0:
                continue
            cx, cy = int(x + w / 2), int(y + h * 0.6)          # cheek / nose
            b, g, r = frame[cy - 2:cy + 3, cx - 2:cx + 3].reshape(-1, 3).mean(axis=0)
            assert r > b, (x, y, w, h, (b, g, r))              # skin: more red than blue
            checked += 1
    assert checked > 30


def test_recall_counts_found_faces_and_first_report_latency():
    T = hard_clip.TrueFace
    truth = [[T(1, (100, 100, 50, 50), 1.0)],
             [T(1, (102, 100, 50, 50), 1.0), T(2, (300, 100, 80, 80), 0.5)],   # 2: partly
             [T(1, (104, 100, 50, 50), 1.0), T(2, (300, 100, 80, 80), 1.0)],
             [T(1, (106, 100, 50, 50), 1.0), T(2, (300, 100, 80, 80), 1.0)],
             [T(2, (300, 100, 80, 80), 1.0), T(3, (500, 300, 40, 40), 1.0)]]
    reported = [[],                                   # face 1 missed at first
                [(103, 101, 48, 48), (300, 100, 80, 80)],
                [(104, 100, 50, 50)],
                [(106, 100, 50, 50), (330, 100, 80, 80)],   # centre off by 30 px: 37 %
                [(300, 100, 80, 80), (300, 100, 80, 80)]]   # a duplicate finds nothing
    r = recall.evaluate(truth, reported, fps=10.0)
    assert r["faces_counted"] == 8 and r["faces_found"] == 4
    assert r["recall_percent"] == pytest.approx(50.0)
    assert r["appearances"] == 3 and r["never_found"] == [3]
    assert r["latency_by_id_ms"] == {"1": 100.0, "2": 200.0}
    assert r["new_face_latency_ms"]["max"] == 200.0 and r["new_face_latency_ms"]["n"] == 2
    assert recall.finds((100, 100, 50, 50), (100, 100, 50, 50))
    assert not recall.finds((100, 100, 25, 25), (100, 100, 50, 50))   # half the size


def test_node_values_read_the_params_file_as_ros_does(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("/**:\n  ros__parameters:\n    log_throttle_s: 2.0\n"
                 "/**/face_detector:\n  ros__parameters:\n    detector: haar\n    max_faces: 3\n"
                 "emotion:\n  ros__parameters:\n    num_threads: 1\n")
    assert inputs.node_values(f, "face_detector") == {"log_throttle_s": 2.0,
                                                      "detector": "haar", "max_faces": 3}
    assert inputs.node_values(f, "emotion") == {"log_throttle_s": 2.0, "num_threads": 1}
    assert inputs.node_values(None, "emotion") == {}
    shipped = inputs.node_values(inputs.default_params_file(), "face_detector")
    assert shipped["detector"] == "blazeface"


def test_parse_graph():
    assert parse_graph("processes@30") == ("processes", 30.0)
    assert parse_graph("pipeline@max") == ("pipeline", None)
    for bad in ("pipeline", "threads@30", "pipeline@0", "pipeline@2000"):
        with pytest.raises(ValueError):
            parse_graph(bad)


def test_bare_loop_runs_the_search_and_the_classifier_per_frame(tmp_path, emotion_model):
    from fer_ros.emotion_classifier import load_classifier

    scenes = hard_clip.plan(seconds=1.5)
    clip = tmp_path / "hard.mp4"
    write_video(clip, hard_clip.render(scenes), hard_clip.FPS, hard_clip.FRAME_SIZE)
    loop = bareloop.run(clip, {}, load_classifier(emotion_model), stamp_rate=30.0)
    assert len(loop.frame_times_s) == len(loop.boxes) == 45
    assert all(t > 0 for t in loop.frame_times_s)
    s = loop.summary()
    assert s["frames"] == 45 - bareloop.WARMUP_FRAMES and s["frames_per_s"] > 0
    assert math.isclose(s["frames_per_s"], 1e3 / s["mean_ms"], rel_tol=1e-9)
    r = recall.evaluate(hard_clip.truth(scenes), loop.boxes, hard_clip.FPS)
    assert r["recall_percent"] > 60.0, r                 # the real detector finds them
    capped = bareloop.run(clip, {}, load_classifier(emotion_model), 30.0, max_seconds=1e-9)
    assert len(capped.frame_times_s) == 1


def test_bare_loop_classifies_tracked_faces_at_the_emotion_nodes_interval(tmp_path,
                                                                        emotion_model):
    """With classify_interval_s, as the emotion node's classify_interval_ms, the CNN sees a
    tracked face on every other frame at 30 fps (50 ms), and new faces at once."""
    from fer_ros.emotion_classifier import load_classifier

    clip = tmp_path / "hard.mp4"
    write_video(clip, hard_clip.render(hard_clip.plan(seconds=1.0)), hard_clip.FPS,
                hard_clip.FRAME_SIZE)
    classifier = load_classifier(emotion_model)
    classified = []
    predict = classifier.predict
    classifier.predict = lambda batch: (classified.append(len(batch)), predict(batch))[1]

    every = bareloop.run(clip, {}, classifier, 30.0)
    assert sum(classified) == sum(len(b) for b in every.boxes) > 0
    classified.clear()
    halved = bareloop.run(clip, {}, classifier, 30.0, classify_interval_s=0.05)
    faces = sum(len(b) for b in halved.boxes)
    assert faces / 2 <= sum(classified) < 0.75 * faces


def test_run_frames_hands_each_frame_its_stamp_and_stops_at_max_frames(tmp_path):
    clip = tmp_path / "hard.mp4"
    write_video(clip, hard_clip.render(hard_clip.plan(seconds=1.0)), hard_clip.FPS,
                hard_clip.FRAME_SIZE)
    stamps = []

    def step(bgr, t_s):
        assert bgr.shape == (hard_clip.FRAME_SIZE[1], hard_clip.FRAME_SIZE[0], 3)
        stamps.append(t_s)
        return bareloop.Frame([(1, 2, 3, 4)], [7], False)

    loop = bareloop.run_frames(clip, step, stamp_rate=60.0, max_frames=8)
    assert stamps == [i / 60.0 for i in range(8)] and len(loop.frame_times_s) == 8
    assert loop.boxes == [[(1, 2, 3, 4)]] * 8 and loop.ids == [[7]] * 8
    assert not any(loop.searched)


def test_the_pypi_fer_baseline_runs_on_the_same_clip(tmp_path):
    from benchlib import fer_library

    reason = fer_library.missing()
    if reason:
        pytest.skip(reason)
    scenes = hard_clip.plan(seconds=1.0)
    clip = tmp_path / "hard.mp4"
    write_video(clip, hard_clip.render(scenes), hard_clip.FPS, hard_clip.FRAME_SIZE)
    loop = fer_library.run(clip, stamp_rate=30.0)
    assert len(loop.frame_times_s) == len(loop.boxes) == 30 and all(loop.searched)
    assert len(fer_library.run(clip, 30.0, max_frames=7).boxes) == 7
    assert all(len(b) == 4 for frame in loop.boxes for b in frame)
    r = recall.evaluate(hard_clip.truth(scenes), loop.boxes, hard_clip.FPS)
    assert r["recall_percent"] > 20.0, r            # its Haar cascade finds the faces too
