"""Pairing frames with their results by header, in a buffer bounded in bytes. ROS-free.

The annotator receives every camera frame but results only for the frames the detector
picked (it always takes the newest one when it gets free), some hundred milliseconds later.
Which frames those are is not known in advance, so when the frame buffer is over its byte
budget it drops the frame whose stamp is closest to its neighbours' (thinning the buffer
evenly over time), not the oldest: under a burst, oldest-first would drop every frame before
its result could arrive, while thinning keeps a share of them in every stretch of time.
Results arrive in stamp order, so a matched result also drops the older frames of its
camera, and a result matches no later frame once its own frame is gone.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Hashable

Key = tuple  # (sec, nanosec, frame_id): see header_key


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
        self._lock = threading.Lock()

    def add_frame(self, key: Key, frame: Any):
        with self._lock:
            if key in self.results:
                return frame, self.results.pop(key)
            if key in self.frames:           # a repeated stamp replaces the older frame
                self._drop_frame(key)
            self.frames[key] = frame
            self._sizes[key] = self._nbytes(frame)
            self.frame_bytes += self._sizes[key]
            while self.frame_bytes > self.frame_budget_bytes and len(self.frames) > 1:
                self._drop_frame(self._eviction_candidate())
                self.frames_evicted += 1
            return None

    def add_result(self, key: Key, result: Any):
        with self._lock:
            if key in self.frames:
                frame = self.frames[key]
                self._drop_frame(key)
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

    def _eviction_candidate(self) -> Hashable:
        """The frame whose removal leaves the smallest gap in time (never the newest; the
        oldest only when two frames are left)."""
        keys = list(self.frames)
        if len(keys) <= 2:
            return keys[0]
        stamps = [_stamp_ns(k) for k in keys]
        best = min(range(1, len(keys) - 1), key=lambda i: stamps[i + 1] - stamps[i - 1])
        return keys[best]
