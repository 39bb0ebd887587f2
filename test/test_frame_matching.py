"""fer_ros.frame_matching: frames and results paired by header, frames bounded in bytes."""

import numpy as np
import pytest

from fer_ros.frame_matching import FrameMatcher


def key(i):
    return (i // 1000, (i % 1000) * 1_000_000, "cam")


def test_frames_are_bounded_in_bytes_and_the_newest_is_always_kept():
    frame = np.zeros((100, 100, 3), np.uint8)           # 30,000 bytes
    m = FrameMatcher(frame_budget_bytes=100_000, result_capacity=5)
    for i in range(10):
        m.add_frame(key(i), frame.copy())
        assert m.frame_bytes <= 100_000 and m.frame_bytes == 30_000 * len(m.frames)
    assert len(m.frames) == 3 and m.frames_evicted == 7
    huge = np.zeros((1000, 1000, 3), np.uint8)          # alone over the budget
    m.add_frame(key(10), huge)
    assert list(m.frames) == [key(10)] and m.frame_bytes == huge.nbytes
    assert m.add_result(key(10), "r") == (huge, "r") and m.frame_bytes == 0


def test_image_messages_count_their_data():
    from sensor_msgs.msg import Image

    msg = Image()
    msg.data = bytes(1234)
    m = FrameMatcher(frame_budget_bytes=10_000, result_capacity=1)
    m.add_frame(key(1), msg)
    assert m.frame_bytes == 1234


def test_repeated_stamp_replaces_the_frame():
    m = FrameMatcher(frame_budget_bytes=10, result_capacity=1, nbytes=lambda f: 1)
    m.add_frame(key(1), "a")
    m.add_frame(key(1), "b")
    assert m.frame_bytes == 1 and m.add_result(key(1), "r") == ("b", "r")


def burst(matcher, frames, period, latency):
    """Frames 0..frames-1; every ``period``-th gets its result ``latency`` frames later."""
    pending, drawn = [], 0
    for i in range(frames):
        matcher.add_frame(key(i), i)
        if i % period == 0:
            pending.append((i + latency, key(i)))
        while pending and pending[0][0] <= i:
            drawn += matcher.add_result(pending.pop(0)[1], "r") is not None
    return drawn


def test_a_burst_longer_than_the_buffer_still_gets_results_drawn():
    """30 frames fit, results come 40 frames late: oldest-first would draw none of them."""
    m = FrameMatcher(frame_budget_bytes=30, result_capacity=30, nbytes=lambda f: 1)
    drawn = burst(m, frames=500, period=31, latency=40)
    assert drawn >= 5, drawn
    assert len(m.frames) <= 30 and m.latency_ns == pytest.approx(40e6, rel=0.5)


def test_a_buffer_that_covers_the_latency_draws_every_result():
    m = FrameMatcher(frame_budget_bytes=30, result_capacity=30, nbytes=lambda f: 1)
    assert burst(m, frames=500, period=31, latency=25) >= 15


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError):
        FrameMatcher(frame_budget_bytes=0, result_capacity=1)


def test_overdue_frames_are_released_within_the_budget():
    m = FrameMatcher(frame_budget_bytes=10**9, result_capacity=5, nbytes=lambda f: 1000)
    m.add_frame((10, 0, "cam"), "f")
    assert m.add_result((10, 0, "cam"), "r") is not None        # learns a latency of 0
    m.add_frame((11, 0, "big"), "stale")                          # never gets a result
    m.add_frame((15, 0, "cam"), "g")
    assert (11, 0, "big") in m.frames                             # only 4 s old
    m.add_frame((16, 100_000_000, "cam"), "h")
    assert (11, 0, "big") not in m.frames and m.frame_bytes == 2000
