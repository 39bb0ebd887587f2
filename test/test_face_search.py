"""fer_ros.face_search: full search on the first frame, on schedule and after a lost face;
close-ups in between.  Real BlazeFace models, the sample clip's per-frame ground truth."""

import math

import numpy as np
import pytest
from conftest import composite_frame
from test_face_detection import close_to

from fer_ros import sample_clip
from fer_ros.face_detection import FaceDetectorError, make_detector
from fer_ros.face_search import (
    CONFIRMING_LOOKS,
    REVERIFY_INTERVAL_S,
    FaceSearch,
    check_search_params,
    make_face_search,
)
from fer_ros.tracking import FaceTracker

FPS = 30.0
LEFT, RIGHT = (40, 100), (380, 100)       # composite_frame positions of two faces


def run(search, frames, fps=FPS, t0=0.0):
    return [search.process(f, t0 + i / fps) for i, f in enumerate(frames)]


def test_search_on_the_first_frame_then_on_schedule(astronaut_bgr):
    """A face drifting slowly: searches at 0, 100, 200, ... ms (frames 0, 3, 6, ... at 30 fps),
    close-ups follow it on the other frames, same face and one id throughout."""
    frames = [composite_frame(astronaut_bgr, [(40 + 2 * i, 100)])[0] for i in range(10)]
    search = make_face_search({"search_interval_ms": 100.0})
    out = run(search, frames)
    assert [r.searched for r in out] == [i % 3 == 0 for i in range(10)]
    assert all(len(r.detections) == 1 for r in out)
    assert len({r.tracks[0].id for r in out}) == 1 and out[-1].tracked_ids == [1]
    assert (search.searches, search.closeups, search.lost_searches) == (4, 6, 0)
    truth = [composite_frame(astronaut_bgr, [(40 + 2 * i, 100)])[1][0] for i in range(10)]
    assert all(close_to(r.detections[0], box, 0.2, 0.3) for r, box in zip(out, truth))


def test_the_verification_model_looks_again_after_a_find_and_every_300_ms(astronaut_bgr):
    """A face found by the search gets the verification look (full_range) on the next frame
    too, then the cheap close-up until its last verification look is REVERIFY_INTERVAL_S old;
    scheduled searches do not verify the followed face again."""
    frames = [composite_frame(astronaut_bgr, [(40 + 2 * i, 100)])[0] for i in range(16)]
    search = make_face_search({})
    det = search.detector
    strong, cheap = [], []
    for i, frame in enumerate(frames):
        v, r = det.verifications, det.refinements
        assert len(search.process(frame, i / FPS).detections) == 1
        strong.append(det.verifications - v)
        cheap.append(det.refinements - r)
    assert CONFIRMING_LOOKS == 2 and REVERIFY_INTERVAL_S == pytest.approx(0.3)
    # frame 0: the search's verification; 1: the confirming look; 10: 300 ms after frame 1
    assert [i for i, n in enumerate(strong) if n] == [0, 1, 10]
    assert strong[1] == strong[10] == 1
    assert cheap == [0, 0] + [1] * 8 + [0] + [1] * 5


def test_a_lost_face_triggers_a_search_on_the_same_frame(astronaut_bgr):
    face, _ = composite_frame(astronaut_bgr, [LEFT])
    moved, boxes = composite_frame(astronaut_bgr, [RIGHT])   # jumped: the close-up misses it
    blank = np.full_like(face, 110)
    search = make_face_search({})
    out = run(search, [face, face, moved, blank, blank])
    assert [r.searched for r in out] == [True, False, True, True, False]
    assert close_to(out[2].detections[0], boxes[0], 0.2, 0.3)    # found again at once
    assert [len(r.detections) for r in out] == [1, 1, 1, 0, 0]
    assert search.lost_searches == 2


def test_search_interval_zero_searches_every_frame(astronaut_bgr):
    frames = [composite_frame(astronaut_bgr, [LEFT])[0]] * 4
    search = make_face_search({"search_interval_ms": 0.0})
    assert all(r.searched for r in run(search, frames)) and search.closeups == 0


def test_stamps_that_do_not_advance_mean_a_search(astronaut_bgr):
    frame, _ = composite_frame(astronaut_bgr, [LEFT])
    search = make_face_search({})
    assert [search.process(frame, t).searched for t in (5.0, 5.0, 5.01, 1.0, 1.01)] == \
        [True, True, False, True, False]
    with pytest.raises(ValueError, match="finite"):
        search.process(frame, math.nan)


@pytest.mark.parametrize("interval_ms", [100.0, 150.0])
def test_a_new_face_is_reported_within_the_search_interval(astronaut_bgr, interval_ms):
    """A second face appears mid-stream, at every phase of the schedule: it is reported less
    than search_interval_ms (stamp time) after the first frame that shows it."""
    one, _ = composite_frame(astronaut_bgr, [LEFT])
    two, _ = composite_frame(astronaut_bgr, [LEFT, RIGHT])
    period = round(interval_ms / 1000 * FPS)
    worst = 0.0
    for appear in range(2, 2 + period + 1):
        frames = [one] * appear + [two] * (period + 2)
        out = run(make_face_search({"search_interval_ms": interval_ms}), frames)
        first = next(i for i, r in enumerate(out) if len(r.detections) == 2)
        assert all(len(r.detections) == 2 for r in out[first:])
        worst = max(worst, (first - appear) / FPS)
    assert worst < interval_ms / 1000
    assert worst >= interval_ms / 1000 - 2 / FPS     # the bound is tight, not vacuous


def _recall(search, frames):
    required = found = 0
    false_alarms = []
    face_free = set(sample_clip.face_free_frames())
    for i, frame in enumerate(frames):
        dets = search.process(frame, i / sample_clip.FPS).detections
        for t in sample_clip.ground_truth(i):
            if t.required():
                required += 1
                found += any(close_to(d, t.box, pos_tol=0.3, size_tol=0.4) for d in dets)
        if i in face_free:
            false_alarms += dets
    return found / required, false_alarms


def test_sample_clip_recall_with_the_default_schedule_matches_every_frame_search():
    """At the clip's 15 fps the default 50 ms schedule still searches every frame, but the
    followed faces get the cheap close-up instead of a verification pass."""
    path = sample_clip.sample_clip_path()
    if not path.is_file():
        pytest.skip("sample clip not generated")
    frames = list(sample_clip.read_frames(path))
    every = make_face_search({"search_interval_ms": 0.0})
    default = make_face_search({})
    recall_every, fa_every = _recall(every, frames)
    recall_default, fa_default = _recall(default, frames)
    assert recall_every >= 0.97
    assert recall_default >= recall_every - 0.01, (recall_default, recall_every)
    assert fa_every == fa_default == []
    v_default, v_every = default.detector.verifications, every.detector.verifications
    assert v_default < 0.3 * v_every, (v_default, v_every)


def test_grid_faces_keep_their_ids_with_fewer_closeup_passes():
    """Five faces under a drifting camera: the same faces as every-frame search, within a few
    pixels, with a third of the full searches and no more 192x192 passes."""
    frames = list(sample_clip.render_frames(sample_clip.grid_scene(5, 1.0)))
    every, default = (make_face_search({"search_interval_ms": v}) for v in (0.0, 100.0))
    for i, frame in enumerate(frames):
        a = every.process(frame, i / FPS).detections
        b = default.process(frame, i / FPS).detections
        assert len(a) == len(b) == 5, i
        for d in a:
            e = min(b, key=lambda e: abs(e.x - d.x) + abs(e.y - d.y))
            assert max(abs(p - q) for p, q in zip(d.box, e.box)) <= 8, (i, d, e)
    assert (default.searches, every.searches) == (5, 15)
    assert default.detector.verifications <= every.detector.verifications
    assert default.tracker.confirmed_ids() == [1, 2, 3, 4, 5]


def test_haar_has_no_closeup_and_searches_every_frame(astronaut_bgr):
    frame, _ = composite_frame(astronaut_bgr, [LEFT])
    search = make_face_search({"detector": "haar"})
    assert all(r.searched for r in run(search, [frame] * 3))


def test_tracking_off_hides_the_ids_but_still_follows(astronaut_bgr):
    frame, _ = composite_frame(astronaut_bgr, [LEFT])
    search = make_face_search({"tracking": False, "search_interval_ms": 100.0})
    out = run(search, [frame] * 3)
    assert [(r.tracks, r.tracked_ids, r.searched) for r in out] == \
        [(None, [], True), (None, [], False), (None, [], False)]
    assert all(len(r.detections) == 1 for r in out)


def test_replaced_detector_searches_next_frame_and_keeps_the_tracks(astronaut_bgr):
    frame, _ = composite_frame(astronaut_bgr, [LEFT])
    search = make_face_search({})
    first = search.process(frame, 0.0)
    search.replace_detector(make_detector("blazeface", score_threshold=0.6))
    again = search.process(frame, 0.01)
    assert again.searched and again.tracks[0].id == first.tracks[0].id


def test_parameters_are_validated():
    assert check_search_params({"tracker_iou_threshold": 0.3}) == []
    assert check_search_params({"tracker_iou_threshold": 0.0})
    make_face_search({"search_interval_ms": 50.0, "qos_depth": 3})   # other names ignored
    with pytest.raises(FaceDetectorError, match="search_interval_ms"):
        make_face_search({"search_interval_ms": -1.0})
    with pytest.raises(FaceDetectorError, match="tracker_iou_threshold"):
        make_face_search({"tracker_iou_threshold": 0.0})
    with pytest.raises(FaceDetectorError, match="search_interval_ms"):
        make_face_search({"search_interval_ms": "often"})
    with pytest.raises(ValueError, match="search_interval_s"):
        FaceSearch(make_detector("haar"), FaceTracker(), -0.1)
