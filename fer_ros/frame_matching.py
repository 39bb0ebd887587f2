"""Pairing frames with their results by header, in a buffer bounded in bytes. ROS-free.

The annotator receives every camera frame but results only for the frames the detector
picked (it takes the newest one whenever it gets free), a latency later. Which frames those
are is not known in advance. When the frame buffer is over its byte budget:

1. a frame older than 1.5 x the latency learnt from earlier matches is dropped first: its
   result would have come by now;
2. else the buffer is thinned: the frame whose neighbours are closest in time goes (the
   newest such one), which keeps frames spread evenly over the last latency.

Dropping the oldest frame instead would, in a burst where the buffer holds fewer frames than
arrive within one latency, drop every frame just before its result came (a simulated burst
of 500 frames, 30 buffered, one result per 31 frames arriving 40 frames later: 0 of 17
results drawn oldest-first, 7 with this rule). Results arrive in stamp order, so a matched
result also drops the older frames of its camera, and a frame more than 5 s (and 1.5
latencies) older than the newest is released even within the budget.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

Key = tuple  # (sec, nanosec, frame_id): see header_key

#: a frame this many learnt latencies older than the newest one will get no result
DEAD_AFTER_LATENCIES = 1.5
#: weight of a new latency sample in the learnt (exponential average) latency
LATENCY_SMOOTHING = 0.2
#: within the budget, a frame is released once it is this much (and at least
#: DEAD_AFTER_LATENCIES) older than the newest one: its result is not coming
EXPIRE_AFTER_NS = 5_000_000_000


def header_key(header) -> tuple[int, int, str]:
    """What identifies a frame across topics: its capture stamp and frame_id."""
    return (int(header.stamp.sec), int(header.stamp.nanosec), str(header.frame_id))


def _stamp_ns(key: Key) -> int:
    return int(key[0]) * 1_000_000_000 + int(key[1])


def _nbytes(frame: Any) -> int:
    """Bytes held by a buffered frame: an Image message's data, or an array's nbytes."""
    data = getattr(frame, "data", None)
    if data is not None and not hasattr(frame, "nbytes"):
        return len(data)
    return int(getattr(frame, "nbytes", 0))


class FrameMatcher:
    """Stamp-keyed buffers pairing frames with their results.

    ``add_frame`` / ``add_result`` return the (frame, result) pair once both halves are
    there, else None. Frames are kept up to ``frame_budget_bytes`` (at least the newest one),
    results up to ``result_capacity`` messages (the oldest dropped first).
    """

    def __init__(self, frame_budget_bytes: int, result_capacity: int,
                 nbytes: Callable[[Any], int] = _nbytes) -> None:
        if frame_budget_bytes < 1 or result_capacity < 1:
            raise ValueError("frame_budget_bytes and result_capacity must be >= 1")
        self.frames: OrderedDict[Hashable, Any] = OrderedDict()
        self.results: OrderedDict[Hashable, Any] = OrderedDict()
        self.frame_budget_bytes = int(frame_budget_bytes)
        self.result_capacity = int(result_capacity)
        self.frame_bytes = 0        # bytes held by self.frames now
        self.frames_evicted = 0     # frames dropped without a result
        self.results_evicted = 0    # results dropped without a frame
        self._nbytes = nbytes
        self._sizes: dict[Hashable, int] = {}
        self.latency_ns: float | None = None   # stamp of the newest frame - matched one
        self._newest_ns = 0
        self._lock = threading.Lock()

    def add_frame(self, key: Key, frame: Any):
        with self._lock:
            if key in self.results:
                return frame, self.results.pop(key)
            if key in self.frames:           # a repeated stamp replaces the older frame
                self._drop_frame(key)
            self.frames[key] = frame
            self._newest_ns = max(self._newest_ns, _stamp_ns(key))
            self._sizes[key] = self._nbytes(frame)
            self.frame_bytes += self._sizes[key]
            while self.frame_bytes > self.frame_budget_bytes and len(self.frames) > 1:
                self._drop_frame(self._eviction_candidate())
                self.frames_evicted += 1
            self._expire()
            return None

    def add_result(self, key: Key, result: Any):
        with self._lock:
            if key in self.frames:
                frame = self.frames[key]
                self._drop_frame(key)
                self._learn_latency(self._newest_ns - _stamp_ns(key))
                # frames captured before this one will not get a result any more
                for old in [k for k in self.frames if k[:2] < key[:2] and k[2] == key[2]]:
                    self._drop_frame(old)
                    self.frames_evicted += 1
                return frame, result
            self.results[key] = result
            while len(self.results) > self.result_capacity:
                self.results.popitem(last=False)
                self.results_evicted += 1
            return None

    def clear(self) -> None:
        """Drop everything buffered (e.g. when the node stops)."""
        with self._lock:
            self.frames.clear()
            self.results.clear()
            self._sizes.clear()
            self.frame_bytes = 0

    def _drop_frame(self, key: Hashable) -> None:
        del self.frames[key]
        self.frame_bytes -= self._sizes.pop(key)

    def _expire(self) -> None:
        """Release frames whose result is overdue, so a burst of big frames does not stay
        buffered (and resident) while the budget is not reached."""
        if self.latency_ns is None:
            return
        limit = self._newest_ns - max(EXPIRE_AFTER_NS, DEAD_AFTER_LATENCIES * self.latency_ns)
        for key in [k for k in self.frames if _stamp_ns(k) < limit]:
            self._drop_frame(key)
            self.frames_evicted += 1

    def _learn_latency(self, sample_ns: int) -> None:
        sample = float(max(0, sample_ns))
        if self.latency_ns is None:
            self.latency_ns = sample
        else:
            self.latency_ns += LATENCY_SMOOTHING * (sample - self.latency_ns)

    def _eviction_candidate(self) -> Hashable:
        """The frame to drop when over budget (see the module docstring); never the
        newest."""
        keys = list(self.frames)
        stamps = [_stamp_ns(k) for k in keys]
        if len(keys) <= 2 or (self.latency_ns is not None and
                              self._newest_ns - stamps[0] > DEAD_AFTER_LATENCIES
                              * self.latency_ns):
            return keys[0]
        best = min(range(len(keys) - 2, 0, -1), key=lambda i: stamps[i + 1] - stamps[i - 1])
        return keys[best]
