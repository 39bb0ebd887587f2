"""benchlib.components: the paced timing calls once per camera frame, idle between."""

from __future__ import annotations

import time

from benchlib.components import _time_paced


def test_paced_calls_are_one_frame_interval_apart_and_each_is_timed():
    starts = []

    def call():
        starts.append(time.perf_counter())
        time.sleep(0.002)

    times = _time_paced(call, rate_hz=50.0, calls=8, warmup=2)
    assert len(times) == 8 and len(starts) == 10
    gaps = [b - a for a, b in zip(starts[2:], starts[3:])]
    assert min(gaps) >= 0.018              # 1/50 s apart (sleep never wakes early)
    assert min(times) >= 0.002             # each call is timed ...
    assert sum(times[:-1]) < starts[-1] - starts[2] - 0.1   # ... without the waits between
