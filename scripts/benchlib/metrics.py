"""Latency, per-frame stage and soak statistics of the bench and soak runs.  ROS-free.

* :func:`latency_summary`: n, mean, p50/p95/p99, max of latency samples, in ms.
* :func:`window_edges`, :class:`LatencyRecorder`: per-window summaries.
* :class:`StageTimes`: per-frame receive times on several topics (keyed by the frame's header
  stamp) -> per-stage latencies (camera->faces, faces->emotions, emotions->annotated) and the
  frames that never produced a result.
* :func:`rss_growth` / :func:`p95_drift`: the soak criteria.
* :func:`identity_summary`: track ids shared by two people, id switches of one person.

Times are seconds (``time.time()`` / ``time.monotonic()`` floats) unless a name says ``_ns`` or
``_ms``.  Latency summaries are reported in milliseconds.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Sequence

import numpy as np

NAN = float("nan")


# ------------------------------------------------------------------------------ statistics
def latency_summary(latencies_s: Iterable[float]) -> dict[str, float]:
    """n, mean, p50, p95, p99, max of latencies given in seconds, reported in milliseconds."""
    arr = np.asarray(list(latencies_s), float) * 1000.0
    if arr.size == 0:
        return {"n": 0, "mean_ms": NAN, "p50_ms": NAN, "p95_ms": NAN, "p99_ms": NAN,
                "max_ms": NAN}
    p50, p95, p99 = np.percentile(arr, [50, 95, 99])
    return {"n": int(arr.size), "mean_ms": float(arr.mean()), "p50_ms": float(p50),
            "p95_ms": float(p95), "p99_ms": float(p99), "max_ms": float(arr.max())}


def window_edges(start: float, end: float, window_s: float) -> list[tuple[float, float]]:
    """Consecutive [t0, t1) windows of ``window_s`` covering [start, end); a last partial
    window shorter than half a window is merged into the previous one."""
    if window_s <= 0:
        raise ValueError("window_s must be > 0")
    if end <= start:
        return []
    if end - start <= window_s:
        return [(start, end)]
    n = int(math.floor((end - start) / window_s))
    edges = [(start + i * window_s, start + (i + 1) * window_s) for i in range(n)]
    rest = end - edges[-1][1]
    if rest > 1e-9:
        if rest >= window_s / 2:
            edges.append((edges[-1][1], end))
        else:
            edges[-1] = (edges[-1][0], end)
    return edges


class LatencyRecorder:
    """Thread-safe list of (time, latency_s) samples."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._t: list[float] = []
        self._v: list[float] = []

    def add(self, t: float, latency_s: float) -> None:
        with self._lock:
            self._t.append(float(t))
            self._v.append(float(latency_s))

    def __len__(self) -> int:
        with self._lock:
            return len(self._v)

    def samples(self, t0: float = -math.inf, t1: float = math.inf) -> list[float]:
        """Latencies (s) of the samples with t0 <= time < t1."""
        with self._lock:
            return [v for t, v in zip(self._t, self._v) if t0 <= t < t1]

    def summary(self, t0: float = -math.inf, t1: float = math.inf) -> dict[str, float]:
        return latency_summary(self.samples(t0, t1))

    def windows(self, start: float, end: float, window_s: float) -> list[dict[str, float]]:
        """One latency_summary per window (see window_edges), with its t0/t1."""
        out = []
        for t0, t1 in window_edges(start, end, window_s):
            s = self.summary(t0, t1)
            s.update(t0=t0, t1=t1)
            out.append(s)
        return out


# ------------------------------------------------------------------------------ per-frame stages
class StageTimes:
    """Receive times of one frame on several topics, keyed by the header stamp (ns).

    ``record("faces", stamp_ns, t_ns)`` stores when the frame's message arrived on a topic
    (first arrival wins).  ``stage_latencies(pairs)`` then gives, for each (from, to) pair,
    ``t[to] - t[from]`` in seconds over the frames that have both; the special source
    ``"stamp"`` is the header stamp itself (capture time).  Thread-safe; ``max_frames`` bounds
    memory (oldest frames are forgotten first).
    """

    STAMP = "stamp"

    def __init__(self, max_frames: int = 1_000_000) -> None:
        self._lock = threading.Lock()
        self._frames: dict[int, dict[str, int]] = {}
        self.max_frames = int(max_frames)
        self.forgotten = 0

    def record(self, topic: str, stamp_ns: int, t_ns: int) -> None:
        with self._lock:
            entry = self._frames.get(stamp_ns)
            if entry is None:
                entry = self._frames[stamp_ns] = {}
                while len(self._frames) > self.max_frames:
                    del self._frames[next(iter(self._frames))]
                    self.forgotten += 1
            entry.setdefault(topic, int(t_ns))

    def _select(self, t0_ns: int | None, t1_ns: int | None) -> list[tuple[int, dict]]:
        with self._lock:
            return [(s, dict(e)) for s, e in self._frames.items()
                    if (t0_ns is None or s >= t0_ns) and (t1_ns is None or s < t1_ns)]

    def frames(self, topic: str, t0_ns: int | None = None, t1_ns: int | None = None) -> int:
        """How many frames (stamps in [t0_ns, t1_ns)) were seen on ``topic``."""
        return sum(1 for _, e in self._select(t0_ns, t1_ns) if topic in e)

    def count(self, t0_ns: int | None = None, t1_ns: int | None = None) -> int:
        """How many frames (stamps in [t0_ns, t1_ns)) were seen on any topic."""
        return len(self._select(t0_ns, t1_ns))

    def stage_latencies(self, frm: str, to: str, t0_ns: int | None = None,
                        t1_ns: int | None = None) -> list[float]:
        out = []
        for stamp, e in self._select(t0_ns, t1_ns):
            a = stamp if frm == self.STAMP else e.get(frm)
            b = e.get(to)
            if a is not None and b is not None:
                out.append((b - a) / 1e9)
        return out

    def missing(self, have: str | None, lack: str, t0_ns: int | None = None,
                t1_ns: int | None = None) -> int:
        """Frames seen on ``have`` (None: on any topic) but never on ``lack`` (e.g. camera_info
        but no emotions: a dropped frame)."""
        return sum(1 for _, e in self._select(t0_ns, t1_ns)
                   if (have is None or have in e) and lack not in e)


# ------------------------------------------------------------------------------ soak criteria
def rss_growth(series: Sequence[tuple[float, float]], start: float, end: float,
               span_s: float) -> dict[str, float]:
    """RSS growth over a run, robust to single-sample noise.

    baseline = median RSS of the samples in [start, start + span_s) (``start`` = end of the
    warm-up), final = median RSS in [end - span_s, end].  growth = final / baseline - 1.
    """
    first = [r for t, r in series if start <= t < start + span_s]
    last = [r for t, r in series if end - span_s <= t <= end]
    inside = [(t, r) for t, r in series if start <= t <= end]
    slope = NAN
    if len(inside) >= 3 and inside[-1][0] > inside[0][0]:
        ts = np.array([t for t, _ in inside], float)
        slope = float(np.polyfit(ts - ts[0], np.array([r for _, r in inside], float), 1)[0])
    if not first or not last:
        return {"baseline": NAN, "final": NAN, "growth": NAN, "slope_per_s": slope,
                "n_first": len(first), "n_last": len(last)}
    base, final = float(np.median(first)), float(np.median(last))
    return {"baseline": base, "final": final,
            "growth": final / base - 1.0 if base > 0 else NAN, "slope_per_s": slope,
            "n_first": len(first), "n_last": len(last)}


def p95_drift(window_p95s: Sequence[float], slack: float = 0.0) -> dict[str, float]:
    """Latency drift over a run from per-window p95 values (ms).

    reference = median p95 of the first third of the windows (at least one), late = median
    of the last third; ``drift = (late - reference) / reference`` (+0.25 = 25 % slower at
    the end).  ``spread`` = max |window / reference - 1| (how far any single window strays).
    ``slack`` (ms) is added to the reference before comparing, so sub-millisecond jitter on a
    tiny latency does not count as drift (``drift_vs_slack``).
    """
    vals = [v for v in window_p95s if v == v]  # drop NaN (empty windows)
    if len(vals) < 2:
        return {"reference": NAN, "late": NAN, "drift": NAN, "drift_vs_slack": NAN,
                "spread": NAN, "windows": len(vals)}
    k = max(1, len(vals) // 3)
    ref, late = float(np.median(vals[:k])), float(np.median(vals[-k:]))
    if ref <= 0:
        return {"reference": ref, "late": late, "drift": NAN, "drift_vs_slack": NAN,
                "spread": NAN, "windows": len(vals)}
    return {"reference": ref, "late": late, "drift": late / ref - 1.0,
            "drift_vs_slack": late / (ref + slack) - 1.0,
            "spread": max(abs(v / ref - 1.0) for v in vals), "windows": len(vals)}


# ------------------------------------------------------------------------------ identities
def identity_summary(truth_frames, reported_frames: Sequence[Sequence[Sequence[float]]],
                     reported_ids: Sequence[Sequence[int]],
                     scene_first_frames: Sequence[int] = ()) -> dict[str, object]:
    """Do the reported track ids stay with their person?  Against a clip's ground truth.

    ``truth_frames[i]``: the true faces of frame i (``id`` unique to one person's appearance,
    ``box``, ``visible``); ``reported_frames[i]`` / ``reported_ids[i]``: the boxes reported
    for frame i and their track ids (0 = untracked, ignored).  A true face fully in view is
    matched to a reported box as recall counts it found (:func:`benchlib.recall.finds`).

    * ``shared_ids``: track ids matched to two or more true faces (one id handed from one
      person to another), ``shared_across_cut`` those whose people are in different scenes
      (``scene_first_frames``: the first frame of each scene), ``handovers``: how many people
      got an id that another person had before (an id shared by n people: n - 1);
    * ``id_switches``: per true face, how often the id it is matched to changes from one
      matched frame to the next, summed (one person split over several ids).
    """
    from benchlib.recall import COUNTED_VISIBLE, finds

    cuts = sorted(scene_first_frames)
    people_by_id: dict[int, set[int]] = {}
    scene_of_person: dict[int, int] = {}
    last_id: dict[int, int] = {}
    switches = 0
    for i, (truths, boxes, ids) in enumerate(zip(truth_frames, reported_frames, reported_ids)):
        free = [(box, tid) for box, tid in zip(boxes, ids) if tid]
        for face in truths:
            if face.visible < COUNTED_VISIBLE:
                continue
            hit = next((k for k, (box, _) in enumerate(free) if finds(box, face.box)), None)
            if hit is None:
                continue
            tid = free.pop(hit)[1]
            people_by_id.setdefault(tid, set()).add(face.id)
            scene_of_person.setdefault(face.id, sum(1 for c in cuts if c <= i))
            if face.id in last_id and last_id[face.id] != tid:
                switches += 1
            last_id[face.id] = tid
    shared = {tid: people for tid, people in people_by_id.items() if len(people) > 1}
    across = [tid for tid, people in shared.items()
              if len({scene_of_person[p] for p in people}) > 1]
    return {"track_ids": len(people_by_id), "people": len(last_id),
            "shared_ids": len(shared), "shared_across_cut": len(across),
            "handovers": sum(len(people) - 1 for people in shared.values()),
            "id_switches": switches,
            "shared": {str(tid): sorted(people) for tid, people in sorted(shared.items())}}
