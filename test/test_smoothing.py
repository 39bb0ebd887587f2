"""Tests for fer_ros.smoothing."""

import math
import time

import numpy as np
import pytest

from fer_ros.smoothing import CLOCK_JUMP_BACK_S, EmotionSmoother, SmoothedEmotion

NUM_CLASSES = 7
FPS = 30.0


def peaked(index, peak=0.8, num_classes=NUM_CLASSES):
    """Scores with ``peak`` on one class and the rest spread evenly."""
    scores = np.full(num_classes, (1.0 - peak) / (num_classes - 1))
    scores[index] = peak
    return scores


def label_changes(labels):
    return sum(a != b for a, b in zip(labels, labels[1:]))


def test_first_observation_initialises_the_track():
    smoother = EmotionSmoother(NUM_CLASSES)
    result = smoother.update(1, 10.0, peaked(3))
    assert isinstance(result, SmoothedEmotion)
    assert result.scores.dtype == np.float32
    np.testing.assert_allclose(result.scores, peaked(3), rtol=1e-6)
    assert result.label_index == 3
    assert result.confidence == pytest.approx(0.8)


def test_scores_are_normalised():
    smoother = EmotionSmoother(3, time_constant_s=0.5)
    smoother.update(1, 0.0, [2.0, 1.0, 1.0])
    result = smoother.update(1, 0.1, [0.0, 3.0, 1.0])
    assert result.scores.sum() == pytest.approx(1.0, abs=1e-6)


def test_constant_input_converges_to_it():
    smoother = EmotionSmoother(NUM_CLASSES, time_constant_s=0.5)
    smoother.update(1, 0.0, peaked(0))
    for frame in range(1, int(5 * FPS) + 1):
        result = smoother.update(1, frame / FPS, peaked(4))
    np.testing.assert_allclose(result.scores, peaked(4), atol=1e-4)
    assert result.label_index == 4


def test_smoothing_follows_the_exponential_in_time():
    # After exactly one time constant the smoothed score covers 1 - 1/e of a step,
    # whatever the frame rate.
    tau = 0.4
    for fps in (10.0, 30.0, 90.0):
        smoother = EmotionSmoother(2, time_constant_s=tau, switch_margin=0.0)
        smoother.update(1, 0.0, [1.0, 0.0])
        for frame in range(1, round(tau * fps) + 1):
            result = smoother.update(1, frame / fps, [0.0, 1.0])
        assert result.scores[1] == pytest.approx(1.0 - math.exp(-1.0), abs=1e-6)


def test_flickering_input_gives_far_fewer_label_changes_than_raw():
    # Two close classes (happy 0.45, neutral 0.40) with noise: the raw argmax flickers.
    rng = np.random.default_rng(42)
    smoother = EmotionSmoother(NUM_CLASSES, time_constant_s=0.5, switch_margin=0.1)
    raw_labels, smoothed_labels = [], []
    for frame in range(int(20 * FPS)):
        scores = np.full(NUM_CLASSES, 0.15 / 5)
        scores[3], scores[4] = 0.45, 0.40
        scores = np.clip(scores + rng.normal(0.0, 0.08, NUM_CLASSES), 0.0, None)
        raw_labels.append(int(np.argmax(scores)))
        smoothed_labels.append(smoother.update(1, frame / FPS, scores).label_index)
    assert label_changes(raw_labels) > 100
    assert label_changes(smoothed_labels) <= label_changes(raw_labels) / 50
    assert smoothed_labels[-1] == 3


@pytest.mark.parametrize("tau, margin", [(0.25, 0.1), (0.5, 0.1), (0.5, 0.3), (1.0, 0.0)])
def test_step_change_is_reported_after_the_expected_delay(tau, margin):
    # From class 0 to class 5 between two frames. Each observation counts as holding since the
    # previous stamp, so the step starts at the last class-0 frame. With contrast
    # c = peak - rest the smoothed lead of class 5 is then c * (1 - 2 exp(-t / tau)): the label
    # switches at the first frame with t >= tau * ln(2 / (1 - margin / c)).
    smoother = EmotionSmoother(NUM_CLASSES, time_constant_s=tau, switch_margin=margin)
    last_old_frame = 30
    contrast = peaked(0)[0] - peaked(0)[1]
    expected_delay_s = tau * math.log(2.0 / (1.0 - margin / contrast))
    labels = []
    for frame in range(int(5 * FPS)):
        scores = peaked(0) if frame <= last_old_frame else peaked(5)
        labels.append(smoother.update(7, frame / FPS, scores).label_index)
    assert set(labels) == {0, 5} and label_changes(labels) == 1
    delay_s = (labels.index(5) - last_old_frame) / FPS
    assert expected_delay_s - 1e-9 <= delay_s < expected_delay_s + 1.0 / FPS


def test_hysteresis_needs_the_margin_to_switch():
    smoother = EmotionSmoother(3, time_constant_s=0.0, switch_margin=0.2)
    assert smoother.update(1, 0.0, [0.6, 0.3, 0.1]).label_index == 0
    # Class 1 leads by 0.15 < 0.2: label stays, scores pass through.
    result = smoother.update(1, 0.1, [0.35, 0.5, 0.15])
    assert result.label_index == 0
    np.testing.assert_allclose(result.scores, [0.35, 0.5, 0.15], rtol=1e-6)
    # Class 1 leads by 0.25: switch.
    assert smoother.update(1, 0.2, [0.3, 0.55, 0.15]).label_index == 1
    # Back to class 0 leading by 0.1: stays at 1.
    assert smoother.update(1, 0.3, [0.5, 0.4, 0.1]).label_index == 1


def test_zero_margin_and_zero_time_constant_is_the_plain_argmax():
    rng = np.random.default_rng(1)
    smoother = EmotionSmoother(NUM_CLASSES, time_constant_s=0.0, switch_margin=0.0)
    for frame in range(200):
        scores = rng.dirichlet(np.ones(NUM_CLASSES))
        result = smoother.update(1, frame / FPS, scores)
        assert result.label_index == int(np.argmax(scores))
        np.testing.assert_allclose(result.scores, scores, rtol=1e-5)


def test_time_comes_from_stamps_not_the_wall_clock():
    rng = np.random.default_rng(3)
    sequence = [(frame / FPS, rng.dirichlet(np.ones(NUM_CLASSES))) for frame in range(12)]
    outputs = []
    for pause_s in (0.0, 0.01):
        smoother = EmotionSmoother(NUM_CLASSES, time_constant_s=0.3)
        run = []
        for stamp, scores in sequence:
            time.sleep(pause_s * rng.random())
            run.append(smoother.update(1, stamp, scores))
        outputs.append(run)
    for fast, slow in zip(*outputs):
        np.testing.assert_array_equal(fast.scores, slow.scores)
        assert fast.label_index == slow.label_index
    # The same scores at other stamps give a different result.
    other_stamps = EmotionSmoother(NUM_CLASSES, time_constant_s=0.3)
    for stamp, scores in sequence:
        last = other_stamps.update(1, 2.0 * stamp, scores)
    assert not np.allclose(last.scores, outputs[0][-1].scores)


def test_duplicate_and_stale_stamps_leave_the_state_unchanged():
    smoother = EmotionSmoother(NUM_CLASSES, time_constant_s=0.5)
    smoother.update(1, 5.0, peaked(0))
    before = smoother.update(1, 5.1, peaked(2))
    duplicate = smoother.update(1, 5.1, peaked(6))
    stale = smoother.update(1, 5.0, peaked(6))
    for result in (duplicate, stale):
        np.testing.assert_array_equal(result.scores, before.scores)
        assert result.label_index == before.label_index
    # The next in-order frame continues from the 5.1 s state.
    reference = EmotionSmoother(NUM_CLASSES, time_constant_s=0.5)
    reference.update(1, 5.0, peaked(0))
    reference.update(1, 5.1, peaked(2))
    np.testing.assert_array_equal(
        smoother.update(1, 5.2, peaked(3)).scores, reference.update(1, 5.2, peaked(3)).scores
    )


def test_large_jump_back_in_time_restarts_the_track():
    smoother = EmotionSmoother(NUM_CLASSES, time_constant_s=0.5)
    for frame in range(30):
        smoother.update(1, 100.0 + frame / FPS, peaked(0))
    restarted = smoother.update(1, 100.0 - CLOCK_JUMP_BACK_S, peaked(4))
    np.testing.assert_allclose(restarted.scores, peaked(4), rtol=1e-6)
    assert restarted.label_index == 4


def test_tracks_are_smoothed_independently():
    smoother = EmotionSmoother(NUM_CLASSES, time_constant_s=0.5)
    smoother.update("a", 0.0, peaked(0))
    smoother.update("b", 0.0, peaked(1))
    assert smoother.update("a", 0.1, peaked(0)).label_index == 0
    assert smoother.update("b", 0.1, peaked(1)).label_index == 1


def test_forget_drops_only_dead_tracks():
    smoother = EmotionSmoother(NUM_CLASSES, time_constant_s=0.5)
    for track_id in (1, 2, 3):
        smoother.update(track_id, 0.0, peaked(0))
    smoother.forget([2, 3])
    # A forgotten track starts afresh; an alive one keeps its history.
    np.testing.assert_allclose(smoother.update(1, 0.1, peaked(5)).scores, peaked(5), rtol=1e-6)
    assert smoother.update(2, 0.1, peaked(5)).label_index == 0
    smoother.forget([])
    assert smoother.update(3, 0.2, peaked(5)).label_index == 5


@pytest.mark.parametrize(
    "kwargs",
    [
        {"num_classes": 1},
        {"num_classes": 7.0},
        {"num_classes": True},
        {"num_classes": 7, "time_constant_s": -0.1},
        {"num_classes": 7, "time_constant_s": math.inf},
        {"num_classes": 7, "time_constant_s": math.nan},
        {"num_classes": 7, "switch_margin": -0.01},
        {"num_classes": 7, "switch_margin": 1.0},
        {"num_classes": 7, "switch_margin": "0.1"},
    ],
)
def test_invalid_constructor_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        EmotionSmoother(**kwargs)


@pytest.mark.parametrize(
    "stamp, scores",
    [
        (0.0, np.full(6, 1 / 6)),
        (0.0, np.full((1, 7), 1 / 7)),
        (0.0, np.zeros(7)),
        (0.0, [0.5, 0.6, -0.1, 0, 0, 0, 0]),
        (0.0, [math.nan, 1, 0, 0, 0, 0, 0]),
        (math.nan, np.full(7, 1 / 7)),
        (math.inf, np.full(7, 1 / 7)),
    ],
)
def test_invalid_observations_raise(stamp, scores):
    with pytest.raises(ValueError):
        EmotionSmoother(NUM_CLASSES).update(1, stamp, scores)
