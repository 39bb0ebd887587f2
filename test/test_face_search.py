"""fer_ros.face_tracking.search: full search on the first frame, on schedule and after a lost face;
close-ups in between.  Real BlazeFace models, the sample clip's per-frame ground truth."""

import math

import numpy as np
import pytest
from conftest import composite_frame
from test_face_detection import close_to

from fer_ros import sample_clip
from fer_ros.face_detection import FaceDetectorError, make_detector
from fer_ros.face_tracking.search import (
    CONFIRMING_LOOKS,
    REVERIFY_INTERVAL_S,
    URGENT_SHARE_FACTOR,
    FaceSearch,
    check_search_params,
    make_face_search,
    search_wait_s,
)
from fer_ros.face_tracking.tracker import FaceTracker

FPS = 30.0
LEFT, RIGHT = (40, 100), (380, 100)       # composite_frame positions of two faces


def run(search, frames, fps=FPS, t0=0.0):
    return [search.process(f, t0 + i / fps) for i, f in enumerate(frames)]


class FastClock:
    """The schedule's wall clock, a second further on each reading: every search is due as
    soon as the worker is free (the tests then order the frames with wait_for_search)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def beside(values=None):
    """The default search (worker beside the close-ups) on the fast clock."""
    return make_face_search(values or {}, clock=FastClock())


def step(search, frame, i, fps=FPS):
    """Process frame ``i``, then let the search it started (if any) finish."""
    out = search.process(frame, i / fps)
    assert search.wait_for_search(30.0)
    return out


def looks_per_frame(search, frames):
    """Step through ``frames`` (one face each): the caller's detector's verification looks
    and cheap close-ups on each frame."""
    det = search.detector
    strong, cheap = [], []
    for i, frame in enumerate(frames):
        v, r = det.verifications, det.refinements
        assert len(step(search, frame, i).detections) == 1
        strong.append(det.verifications - v)
        cheap.append(det.refinements - r)
    return strong, cheap


def test_the_first_frame_is_searched_before_it_is_answered(astronaut_bgr):
    """Nothing to follow yet: the first frame gets the whole search; then close-ups follow
    the face, one id throughout, while searches run beside them."""
    frames = [composite_frame(astronaut_bgr, [(40 + 2 * i, 100)])[0] for i in range(10)]
    search = beside()
    out = [step(search, f, i) for i, f in enumerate(frames)]
    assert out[0].searched and len(out[0].detections) == 1
    assert all(len(r.detections) == 1 for r in out)
    assert len({r.tracks[0].id for r in out}) == 1 and out[-1].tracked_ids == [1]
    assert search.closeups == 9 and search.joined == 0 and search.searches == 10
    truth = [composite_frame(astronaut_bgr, [(40 + 2 * i, 100)])[1][0] for i in range(10)]
    assert all(close_to(r.detections[0], box, 0.2, 0.3) for r, box in zip(out, truth))
    search.close()


def test_a_new_face_joins_on_the_frame_after_its_search_never_on_its_own(astronaut_bgr):
    """The frame a second face appears on starts a search and is answered without the new
    face (the answer does not wait for the search); the face joins on the next frame, found
    there by a close-up at the search's box, and is followed from then on."""
    one, _ = composite_frame(astronaut_bgr, [LEFT])
    two, boxes = composite_frame(astronaut_bgr, [LEFT, RIGHT])
    search = beside()
    det = search.detector
    out = [step(search, f, i) for i, f in enumerate([one] * 3)]
    cheap = det.refinements
    out += [step(search, two, 3), step(search, two, 4)]
    assert [len(r.detections) for r in out] == [1, 1, 1, 1, 2]
    assert out[3].searched and search.joined == 1
    assert any(close_to(d, boxes[1], 0.2, 0.3) for d in out[4].detections)
    assert det.refinements - cheap == 3     # the followed face twice, the joining one once
    out += [step(search, two, i) for i in range(5, 9)]
    assert all(len(r.detections) == 2 for r in out[4:]) and search.joined == 1
    assert len({t.id for r in out[4:] for t in r.tracks}) == 2
    search.close()


def test_without_waiting_the_new_face_still_joins_once_the_search_is_done(astronaut_bgr):
    """At the node's pace (a frame every 33 ms, real clock) the new face joins a few frames
    later at most, and a frame's result never holds more than the followed faces plus what
    finished searches found."""
    import time

    one, _ = composite_frame(astronaut_bgr, [LEFT])
    two, _ = composite_frame(astronaut_bgr, [LEFT, RIGHT])
    search = make_face_search({})
    counts = []
    for i, frame in enumerate([one] * 3 + [two] * 60):
        counts.append(len(search.process(frame, i / FPS).detections))
        if counts[-1] == 2:
            break
        time.sleep(1 / FPS)
    search.close()
    assert counts[:4] == [1, 1, 1, 1] and counts[-1] == 2, counts
    assert search.joined == 1


def test_the_verification_looks_run_beside_while_searches_do(astronaut_bgr):
    """A face the search found gets its confirming verification look (full_range) from the
    next search beside, which also looks again once the latest look is 150 ms old: the
    caller's thread runs only the cheap close-up after the first frame."""
    frames = [composite_frame(astronaut_bgr, [(40 + 2 * i, 100)])[0] for i in range(16)]
    search = beside()
    strong, cheap = looks_per_frame(search, frames)
    assert CONFIRMING_LOOKS == 2 and REVERIFY_INTERVAL_S == pytest.approx(0.3)
    assert [i for i, n in enumerate(strong) if n] == [0] and cheap == [0] + [1] * 15
    # the confirming look, then one every 150 ms or so: 4 or 5 in the next 500 ms
    assert 3 <= search.search_detector.verifications <= 6
    search.close()


def test_a_face_the_verification_beside_refutes_is_dropped(astronaut_bgr):
    """The worker's verification look decides: with a worker whose detector wants a score
    no face reaches, the followed face is dropped on the frame its verdict joins and is not
    followed after that."""
    frame, _ = composite_frame(astronaut_bgr, [LEFT])
    search = beside()
    assert len(step(search, frame, 0).detections) == 1
    search.replace_detector(search.detector, make_detector("blazeface", score_threshold=0.999))
    out = [step(search, frame, i) for i in range(1, 5)]
    assert [len(r.detections) for r in out] == [1, 0, 0, 0]
    assert search.search_detector.verifications >= 1
    search.close()


def test_without_searches_the_callers_thread_verifies_every_300_ms(astronaut_bgr):
    """A clock that never makes a search due: the verification model looks at the followed
    face on the caller's thread once its latest look is REVERIFY_INTERVAL_S old."""
    frames = [composite_frame(astronaut_bgr, [(40 + 2 * i, 100)])[0] for i in range(16)]
    search = make_face_search({}, clock=lambda: 0.0)
    strong, cheap = looks_per_frame(search, frames)
    # frame 0: the search's verification; 9: 300 ms later
    assert [i for i, n in enumerate(strong) if n] == [0, 9] and strong[9] == 1
    assert cheap == [0] + [1] * 8 + [0] + [1] * 6
    assert search.searches == 1 and search.search_detector.verifications == 0
    search.close()


def test_a_lost_face_is_searched_for_at_once_and_found_on_the_next_frame(astronaut_bgr):
    face, _ = composite_frame(astronaut_bgr, [LEFT])
    moved, boxes = composite_frame(astronaut_bgr, [RIGHT])   # jumped: the close-up misses it
    blank = np.full_like(face, 110)
    search = beside()
    out = [step(search, f, i) for i, f in enumerate([face, face, moved, moved, blank, blank])]
    assert [len(r.detections) for r in out] == [1, 1, 0, 1, 0, 0]
    assert close_to(out[3].detections[0], boxes[0], 0.2, 0.3)    # found again
    assert out[2].searched and search.lost_searches == 2         # on the jump, on the blank
    search.close()


def test_a_scene_cut_ends_the_tracks_and_is_searched_before_it_is_answered(astronaut_bgr):
    """Another scene: the face on it gets a new id on the cut frame itself."""
    face, _ = composite_frame(astronaut_bgr, [LEFT])
    other = np.zeros_like(face)                    # the whole photo: one face, elsewhere
    other[:, 64:576] = astronaut_bgr[:480]
    search = beside()
    out = [step(search, f, i) for i, f in enumerate([face, face, face, other, other])]
    assert [len(r.detections) for r in out] == [1] * 5
    assert out[3].searched and search.cuts == 1
    assert out[2].tracks[0].id == 1 and out[3].tracks[0].id == out[4].tracks[0].id == 2
    assert out[3].tracked_ids == []     # the old track ended, the new one is not confirmed
    search.close()


def test_search_interval_zero_searches_every_frame(astronaut_bgr):
    frames = [composite_frame(astronaut_bgr, [LEFT])[0]] * 4
    search = make_face_search({"search_interval_ms": 0.0})
    assert search.every_frame and search.search_detector is None
    assert all(r.searched for r in run(search, frames)) and search.closeups == 0


def test_frame_times_must_be_finite(astronaut_bgr):
    frame, _ = composite_frame(astronaut_bgr, [LEFT])
    search = make_face_search({})
    with pytest.raises(ValueError, match="finite"):
        search.process(frame, math.nan)
    search.close()


def test_the_schedule_keeps_the_search_within_its_share():
    """search_wait_s: from one search's start to the next one's."""
    cost = 0.02
    assert search_wait_s(cost, 0.5, 0.5, urgent=False, still=False) == pytest.approx(0.04)
    assert search_wait_s(cost, 0.25, 0.5, urgent=False, still=False) == pytest.approx(0.08)
    # after a loss or a cut: twice the share, at most a whole core
    assert URGENT_SHARE_FACTOR == 2.0
    assert search_wait_s(cost, 0.25, 0.5, urgent=True, still=False) == pytest.approx(0.04)
    assert search_wait_s(cost, 0.5, 0.5, urgent=True, still=True) == pytest.approx(0.02)
    assert search_wait_s(cost, 0.8, 0.5, urgent=True, still=False) == pytest.approx(0.02)
    # a still scene: the longer of the share's wait and the still interval
    assert search_wait_s(cost, 0.5, 0.5, urgent=False, still=True) == pytest.approx(0.5)
    assert search_wait_s(0.4, 0.5, 0.5, urgent=False, still=True) == pytest.approx(0.8)


def test_a_still_scene_is_searched_less_often(astronaut_bgr):
    """Frames that do not change: after the first search, the next waits for
    search_interval_ms; a changed frame, or a followed face due for its verification look,
    makes one due at the share's pace again."""
    blank = np.full((480, 640, 3), 110, np.uint8)
    spot = blank.copy()
    spot[200:240, 300:340] = 200                    # something changed, not a face
    face, _ = composite_frame(astronaut_bgr, [LEFT])

    def flags(frames):
        now = [0.0]
        search = make_face_search({"search_interval_ms": 1000.0, "max_search_share": 1.0},
                                  clock=lambda: now[0])
        out = []
        for i, f in enumerate(frames):
            now[0] = 0.1 * i                    # 100 ms of wall time a frame
            out.append(step(search, f, i).searched)
        search.close()
        return out

    # 0: the first frame's search; 1-3: still, not 1 s yet; 4: changed: due at the share's
    # pace (the search costs < 100 ms); 5: still again
    assert flags([blank] * 4 + [spot] * 2) == [True, False, False, False, True, False]
    # the face found on frame 0 needs its confirming look: frame 1 is searched though still
    assert flags([face] * 3) == [True, True, False]


def _recall(search, frames):
    required = found = 0
    false_alarms = []
    face_free = set(sample_clip.face_free_frames())
    for i, frame in enumerate(frames):
        dets = step(search, frame, i, sample_clip.FPS).detections
        for t in sample_clip.ground_truth(i):
            if t.required():
                required += 1
                found += any(close_to(d, t.box, pos_tol=0.3, size_tol=0.4) for d in dets)
        if i in face_free:
            false_alarms += dets
    return found / required, false_alarms


def test_sample_clip_recall_with_the_search_beside_matches_every_frame_search():
    """A search beside on every frame that finishes before the next one (a CPU fast enough
    for the clip's 15 fps): the faces it finds join one frame late, a scene's first frame is
    searched before it is answered, and the followed faces get the cheap close-up instead of
    a verification pass (the searches beside verify them)."""
    path = sample_clip.sample_clip_path()
    if not path.is_file():
        pytest.skip("sample clip not generated")
    frames = list(sample_clip.read_frames(path))
    every = make_face_search({"search_interval_ms": 0.0})
    default = beside()
    recall_every, fa_every = _recall(every, frames)
    recall_default, fa_default = _recall(default, frames)
    default.close()
    assert recall_every >= 0.97
    assert recall_default >= recall_every - 0.01, (recall_default, recall_every)
    assert fa_every == fa_default == []
    # 192x192 passes: on the caller's thread only on a scene's first frame
    v_here, v_beside = default.detector.verifications, default.search_detector.verifications
    v_every = every.detector.verifications
    assert v_here < 0.05 * v_every and v_here + v_beside <= v_every, \
        (v_here, v_beside, v_every)


def test_grid_faces_keep_their_ids_with_fewer_closeup_passes():
    """Five faces under a drifting camera: the same faces as every-frame search, within a few
    pixels, with fewer 192x192 passes on the caller's thread."""
    frames = list(sample_clip.render_frames(sample_clip.grid_scene(5, 1.0)))
    every, default = make_face_search({"search_interval_ms": 0.0}), make_face_search({})
    for i, frame in enumerate(frames):
        a = every.process(frame, i / FPS).detections
        b = default.process(frame, i / FPS).detections
        assert len(a) == len(b) == 5, i
        for d in a:
            e = min(b, key=lambda e: abs(e.x - d.x) + abs(e.y - d.y))
            assert max(abs(p - q) for p, q in zip(d.box, e.box)) <= 8, (i, d, e)
    default.close()
    assert every.searches == 15 and default.closeups == 5 * 14
    assert default.detector.verifications <= every.detector.verifications
    assert default.tracker.confirmed_ids() == [1, 2, 3, 4, 5]


def test_haar_has_no_closeup_and_searches_every_frame(astronaut_bgr):
    frame, _ = composite_frame(astronaut_bgr, [LEFT])
    search = make_face_search({"detector": "haar"})
    assert all(r.searched for r in run(search, [frame] * 3))


def test_tracking_off_hides_the_ids_but_still_follows(astronaut_bgr):
    frame, _ = composite_frame(astronaut_bgr, [LEFT])
    search = make_face_search({"tracking": False})
    out = run(search, [frame] * 3)
    search.close()
    assert [(r.tracks, r.tracked_ids) for r in out] == [(None, [])] * 3
    assert all(len(r.detections) == 1 for r in out) and search.closeups == 2


def test_replaced_detector_searches_next_frame_and_keeps_the_tracks(astronaut_bgr):
    frame, _ = composite_frame(astronaut_bgr, [LEFT])
    search = make_face_search({})
    first = search.process(frame, 0.0)
    with pytest.raises(ValueError, match="search_detector"):
        search.replace_detector(make_detector("blazeface", score_threshold=0.6))
    search.replace_detector(*(make_detector("blazeface", score_threshold=0.6) for _ in "ab"))
    again = search.process(frame, 0.01)
    search.close()
    assert again.searched and again.tracks[0].id == first.tracks[0].id


def test_parameters_are_validated():
    assert check_search_params({"tracker_iou_threshold": 0.3}) == []
    assert check_search_params({"tracker_iou_threshold": 0.0})
    make_face_search({"search_interval_ms": 50.0, "qos_depth": 3}).close()   # names ignored
    with pytest.raises(FaceDetectorError, match="max_search_share"):
        make_face_search({"max_search_share": 0.0})
    with pytest.raises(ValueError, match="max_search_share"):
        make_face_search({}).max_search_share = 1.5
    with pytest.raises(FaceDetectorError, match="search_interval_ms"):
        make_face_search({"search_interval_ms": -1.0})
    with pytest.raises(FaceDetectorError, match="tracker_iou_threshold"):
        make_face_search({"tracker_iou_threshold": 0.0})
    with pytest.raises(FaceDetectorError, match="search_interval_ms"):
        make_face_search({"search_interval_ms": "often"})
    with pytest.raises(ValueError, match="search_interval_s"):
        FaceSearch(make_detector("haar"), FaceTracker(), -0.1)
