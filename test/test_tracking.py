"""Tests for fer_ros.face_tracking.tracker on synthetic box sequences."""

import itertools
import math

import numpy as np
import pytest

from fer_ros.face_tracking.tracker import FaceTracker, Track, min_cost_assignment

SIZE = 100


def box_at(x, y, size=SIZE):
    return (x, y, size, size)


def run(tracker, frames):
    """Feed frames (lists of boxes) to the tracker; return the list of ids per frame."""
    return [[track.id for track in tracker.update(boxes)] for boxes in frames]


def test_update_returns_one_track_per_box_in_input_order():
    tracker = FaceTracker()
    left, right = box_at(0, 0), box_at(400, 0)
    first = tracker.update([left, right])
    assert all(isinstance(track, Track) for track in first)
    assert [track.id for track in first] == [1, 2]
    swapped_order = tracker.update([right, left])
    assert [track.id for track in swapped_order] == [2, 1]
    assert tracker.update([]) == []


def test_steadily_moving_face_keeps_its_id():
    tracker = FaceTracker()
    ids = run(tracker, [[box_at(10 + 25 * t, 50 + 10 * t)] for t in range(60)])
    assert ids == [[1]] * 60


def test_accelerating_face_is_followed_by_velocity_prediction():
    # The last steps (80 px per frame for a 100 px face: IoU 0.11, centre distance 0.8)
    # would fail the association gate without predicting the box.
    speeds = [20, 40, 50, 60, 70] + [80] * 20
    positions = np.cumsum([0] + speeds)
    tracker = FaceTracker()
    assert run(tracker, [[box_at(x, 0)] for x in positions]) == [[1]] * len(positions)


def test_face_changing_size_keeps_its_id():
    tracker = FaceTracker()
    frames = [[box_at(200 - 3 * t, 200 - 3 * t, SIZE + 6 * t)] for t in range(30)]
    assert run(tracker, frames) == [[1]] * 30


def test_confirmation_after_min_hits():
    tracker = FaceTracker(min_hits=3)
    confirmed = []
    for _ in range(4):
        (track,) = tracker.update([box_at(0, 0)])
        confirmed.append(track.confirmed)
        assert tracker.confirmed_ids() == ([1] if track.confirmed else [])
    assert confirmed == [False, False, True, True]
    assert track.hits == 4 and track.age == 4


def test_min_hits_one_confirms_immediately():
    tracker = FaceTracker(min_hits=1)
    (track,) = tracker.update([box_at(0, 0)])
    assert track.confirmed
    assert tracker.confirmed_ids() == [1]


def test_unconfirmed_track_that_vanishes_is_never_confirmed():
    tracker = FaceTracker(min_hits=3, max_misses=2)
    tracker.update([box_at(0, 0)])
    tracker.update([box_at(0, 0)])
    for _ in range(3):
        tracker.update([])
        assert tracker.confirmed_ids() == []
    (track,) = tracker.update([box_at(0, 0)])
    assert track.id == 2 and not track.confirmed


def test_two_faces_swapping_positions_keep_their_ids():
    # Same row, opposite directions: the boxes coincide at t = 10, after which only the
    # velocity prediction tells the faces apart. The input order alternates so that the
    # result cannot come from the order of the boxes.
    tracker = FaceTracker()
    for t in range(21):
        left_mover, right_mover = box_at(20 * t, 0), box_at(400 - 20 * t, 0)
        if t % 2:
            ids = [track.id for track in tracker.update([right_mover, left_mover])][::-1]
        else:
            ids = [track.id for track in tracker.update([left_mover, right_mover])]
        assert ids == [1, 2], f"frame {t}"
    assert left_mover == box_at(400, 0) and right_mover == box_at(0, 0)


def test_crossing_face_hidden_behind_the_other_keeps_its_id():
    # Face 2 passes behind face 1 and is not detected for 4 frames while they overlap.
    tracker = FaceTracker(max_misses=5)
    hidden = range(8, 12)
    frames = []
    for t in range(21):
        front = box_at(20 * t, 0)
        behind = box_at(400 - 20 * t, 30)
        frames.append([front] if t in hidden else [front, behind])
    ids = run(tracker, frames)
    for t, frame_ids in enumerate(ids):
        assert frame_ids == ([1] if t in hidden else [1, 2]), f"frame {t}"
        if t in hidden:
            assert tracker.confirmed_ids() == [1, 2], f"frame {t}"


def test_missed_frames_keep_confirmed_id_alive():
    tracker = FaceTracker(min_hits=2, max_misses=5)
    run(tracker, [[box_at(0, 0)]] * 3)
    for _ in range(4):
        tracker.update([])
        assert tracker.confirmed_ids() == [1]
    tracker.update([])
    assert tracker.confirmed_ids() == []


@pytest.mark.parametrize("max_misses", [1, 3, 5])
def test_gap_shorter_than_max_misses_keeps_the_id(max_misses):
    tracker = FaceTracker(max_misses=max_misses)
    gap = max_misses - 1
    ids = run(tracker, [[box_at(50, 50)]] * 4 + [[]] * gap + [[box_at(52, 48)]])
    assert ids[-1] == [1]


@pytest.mark.parametrize("max_misses", [1, 3, 5])
def test_gap_of_max_misses_gives_a_new_id(max_misses):
    tracker = FaceTracker(max_misses=max_misses)
    ids = run(tracker, [[box_at(50, 50)]] * 4 + [[]] * max_misses + [[box_at(52, 48)]])
    assert ids[-1] == [2]


def test_moving_face_missed_for_a_few_frames_is_reacquired_where_predicted():
    # 30 px per frame, 4 frames missing: it reappears 150 px (1.5 face sizes) further on.
    tracker = FaceTracker(max_misses=5)
    visible = [t for t in range(30) if not 10 <= t < 14]
    frames = [[box_at(30 * t, 0)] if t in visible else [] for t in range(30)]
    ids = run(tracker, frames)
    assert {i for frame_ids in ids for i in frame_ids} == {1}


def test_faces_entering_and_leaving():
    tracker = FaceTracker(min_hits=3, max_misses=5)
    a = box_at(0, 0)
    b = box_at(300, 0)
    frames = [[a]] * 5 + [[a, b]] * 10 + [[a]] * 10
    ids = run(tracker, frames)
    assert ids[:5] == [[1]] * 5
    assert ids[5:15] == [[1, 2]] * 10
    assert ids[15:] == [[1]] * 10
    assert tracker.confirmed_ids() == [1]
    # A face entering where face 2 was gets a fresh id.
    (_, newcomer) = tracker.update([a, b])
    assert newcomer.id == 3 and not newcomer.confirmed


def test_ids_are_never_reused():
    rng = np.random.default_rng(0)
    tracker = FaceTracker(min_hits=1, max_misses=2)
    seen_dead = set()
    alive_before = set()
    next_expected = 1
    for _ in range(300):
        # Up to 4 faces on a fixed grid, each present or not at random.
        boxes = [box_at(250 * slot, 0) for slot in range(4) if rng.random() < 0.5]
        ids = [track.id for track in tracker.update(boxes)]
        for track_id in ids:
            assert track_id not in seen_dead
            if track_id not in alive_before:
                assert track_id == next_expected
                next_expected += 1
        alive_now = set(tracker.confirmed_ids())
        seen_dead |= alive_before - alive_now
        alive_before = alive_now
    assert next_expected > 20


def test_distant_face_is_not_associated():
    tracker = FaceTracker(iou_threshold=0.3, max_center_distance=0.5)
    assert run(tracker, [[box_at(0, 0)], [box_at(200, 0)]]) == [[1], [2]]


def test_center_distance_gate_associates_without_overlap_threshold():
    # Shift of 45 px: IoU 0.38 (fails a 0.5 IoU threshold), centre distance 0.45 (passes 0.5).
    strict_iou = FaceTracker(iou_threshold=0.5, max_center_distance=0.5)
    assert run(strict_iou, [[box_at(0, 0)], [box_at(45, 0)]]) == [[1], [1]]
    iou_only = FaceTracker(iou_threshold=0.5, max_center_distance=0.0)
    assert run(iou_only, [[box_at(0, 0)], [box_at(45, 0)]]) == [[1], [2]]


def test_close_faces_get_the_globally_best_assignment():
    # Greedily taking the closest pair (track 2, detection at x=40) would leave track 1, whose
    # only admissible detection that is, unmatched.
    tracker = FaceTracker(min_hits=1)
    tracker.update([box_at(0, 0), box_at(60, 0)])
    tracks = tracker.update([box_at(40, 0), box_at(100, 0)])
    assert [track.id for track in tracks] == [1, 2]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"iou_threshold": 0.0},
        {"iou_threshold": 1.5},
        {"iou_threshold": math.nan},
        {"iou_threshold": "0.3"},
        {"max_center_distance": -0.1},
        {"max_center_distance": math.inf},
        {"min_hits": 0},
        {"min_hits": 2.5},
        {"min_hits": True},
        {"max_misses": 0},
        {"max_misses": -3},
        {"min_similarity": 1.5},
        {"min_similarity": -1.01},
        {"min_similarity": math.nan},
    ],
)
def test_invalid_constructor_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        FaceTracker(**kwargs)


@pytest.mark.parametrize(
    "boxes",
    [
        [(0, 0, 10)],
        [(0, 0, 0, 10)],
        [(0, 0, 10, -1)],
        [(0, math.nan, 10, 10)],
        [("a", 0, 10, 10)],
    ],
)
def test_invalid_boxes_raise(boxes):
    with pytest.raises(ValueError):
        FaceTracker().update(boxes)


def brute_force_min_cost(cost):
    rows, cols = cost.shape
    if rows <= cols:
        return min(
            sum(cost[r, c] for r, c in enumerate(perm))
            for perm in itertools.permutations(range(cols), rows)
        )
    return brute_force_min_cost(cost.T)


@pytest.mark.parametrize("shape", [(1, 1), (1, 4), (4, 1), (3, 3), (4, 5), (5, 3), (5, 5)])
def test_min_cost_assignment_is_optimal(shape):
    rng = np.random.default_rng(sum(shape))
    for _ in range(20):
        cost = rng.integers(0, 10, size=shape).astype(float)
        pairs = min_cost_assignment(cost)
        assert len(pairs) == min(shape)
        assert len({r for r, _ in pairs}) == len({c for _, c in pairs}) == min(shape)
        assert sum(cost[r, c] for r, c in pairs) == pytest.approx(brute_force_min_cost(cost))


def test_min_cost_assignment_rejects_non_finite_costs():
    with pytest.raises(ValueError):
        min_cost_assignment(np.array([[0.0, math.inf]]))


# ------------------------------------------------------------------------------ appearance
def look(angle_deg):
    """A unit descriptor on a circle: cos(angle) is the similarity of two of them."""
    a = math.radians(angle_deg)
    return np.array([math.cos(a), math.sin(a), 0.0])


def test_another_person_in_the_same_place_gets_a_new_id():
    # similarity cos(90 deg) = 0 < 0.5: refused although the box has not moved
    tracker = FaceTracker()
    ids = [[t.id for t in tracker.update([box_at(100, 100)], [look(0)])] for _ in range(5)]
    ids += [[t.id for t in tracker.update([box_at(100, 100)], [look(90)])] for _ in range(5)]
    assert ids == [[1]] * 5 + [[2]] * 5


def test_without_appearance_the_place_decides():
    for tracker, appearances in ((FaceTracker(min_similarity=-1.0), (look(0), look(90))),
                                 (FaceTracker(), (None, look(90))),
                                 (FaceTracker(), (look(0), None))):
        first = tracker.update([box_at(100, 100)], [appearances[0]])
        second = tracker.update([box_at(100, 100)], [appearances[1]])
        assert first[0].id == second[0].id == 1


def test_slow_change_of_appearance_keeps_the_id():
    # 3 degrees per frame: 120 degrees in all (cos = -0.5), but the running average follows
    tracker = FaceTracker()
    ids = {t.id for k in range(40) for t in tracker.update([box_at(100 + k, 100)], [look(3 * k)])}
    assert ids == {1}


def test_one_odd_frame_does_not_end_the_track():
    # a single frame refused (e.g. a hand over the face) is a miss, not the end of the track
    tracker = FaceTracker()
    for _ in range(5):
        tracker.update([box_at(100, 100)], [look(0)])
    assert tracker.update([box_at(100, 100)], [look(90)])[0].id == 2
    assert tracker.update([box_at(100, 100)], [look(5)])[0].id == 1


def test_appearance_picks_the_right_track_for_two_close_faces():
    # two faces side by side swap places in one frame; by position the swap is ambiguous
    tracker = FaceTracker(max_center_distance=1.5)
    for _ in range(3):
        tracker.update([box_at(100, 100), box_at(180, 100)], [look(0), look(90)])
    swapped = tracker.update([box_at(105, 100), box_at(175, 100)], [look(90), look(0)])
    assert [t.id for t in swapped] == [2, 1]


@pytest.mark.parametrize("appearances", [[look(0)], [look(0), [1.0, 0.0]],
                                         [look(0), [math.nan, 0.0, 0.0]]])
def test_invalid_appearances_raise(appearances):
    with pytest.raises(ValueError):
        FaceTracker().update([box_at(0, 0), box_at(300, 0)], appearances)
