"""Measurement helpers for the benchmark and soak scripts.  ROS-free (NumPy + psutil).

* :func:`percentile` / :func:`latency_summary`: p50/p95/p99 of latency samples, in ms.
* :class:`LatencyRecorder`: thread-safe (receive time, latency) samples; per-window summaries.
* :class:`RateMeter`: events per second over a time span, thread-safe.
* :class:`StageTimes`: per-frame receive times on several topics (keyed by the frame's header
  stamp) -> per-stage latencies (camera->faces, faces->emotions, emotions->annotated) and the
  frames that never produced a result (dropped).
* :class:`ProcessSampler`: RSS and CPU time of a set of processes (and their children) sampled
  in a background thread; CPU % over a span from CPU-time deltas, RSS series.
* :func:`rss_growth` / :func:`p95_drift`: the soak criteria.
* :func:`machine_info`: CPU model, core count, memory, load (printed with every result).

Times are seconds (``time.time()`` / ``time.monotonic()`` floats) unless a name says ``_ns`` or
``_ms``.  Latency summaries are reported in milliseconds.
"""

from __future__ import annotations

import math
import os
import platform
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

__all__ = [
    "percentile", "latency_summary", "LatencyRecorder", "RateMeter", "StageTimes",
    "ProcessSampler", "ProcSample", "rss_growth", "p95_drift", "window_edges", "machine_info",
    "format_table",
]

NAN = float("nan")


# ------------------------------------------------------------------------------ statistics
def percentile(values: Iterable[float], q: float) -> float:
    """The ``q``-th percentile (0..100) with linear interpolation between closest ranks
    (NumPy's default method); NaN for no values."""
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile q must be in [0, 100], got {q}")
    arr = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, float)
    if arr.size == 0:
        return NAN
    return float(np.percentile(arr, q))


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


class RateMeter:
    """Counts events (thread-safe) and gives their rate over a span."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._times: list[float] = []

    def tick(self, t: float | None = None) -> None:
        t = self._clock() if t is None else float(t)
        with self._lock:
            self._times.append(t)

    def count(self, t0: float = -math.inf, t1: float = math.inf) -> int:
        with self._lock:
            return sum(1 for t in self._times if t0 <= t < t1)

    def rate(self, t0: float | None = None, t1: float | None = None) -> float:
        """Events per second in [t0, t1).  With both bounds: count / (t1 - t0) (the honest
        throughput over a fixed measurement window).  Without: (n - 1) / (last - first)."""
        if t0 is not None and t1 is not None:
            if t1 <= t0:
                return NAN
            return self.count(t0, t1) / (t1 - t0)
        with self._lock:
            times = [t for t in self._times if (t0 is None or t >= t0)
                     and (t1 is None or t < t1)]
        if len(times) < 2 or times[-1] <= times[0]:
            return NAN
        return (len(times) - 1) / (times[-1] - times[0])


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


# ------------------------------------------------------------------------------ processes
@dataclass
class ProcSample:
    t: float                  # time.monotonic()
    rss: int                  # bytes, process + children
    cpu_s: float              # user + system CPU seconds, process + children (cumulative)
    alive: bool = True


@dataclass
class _Tracked:
    pid: int
    children: bool = True
    samples: list[ProcSample] = field(default_factory=list)


class ProcessSampler:
    """Samples RSS and CPU time of named processes (each with its descendants).

    ``sample()`` takes one sample of every process; ``start(interval)`` does it from a
    background thread until ``stop()``.  A process that exited keeps its last values
    (``alive=False``).  ``cpu_percent(name, t0, t1)`` is 100 * CPU seconds / wall seconds
    between the samples closest to t0 and t1 (100 = one full core).
    """

    def __init__(self, pids: Mapping[str, int] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        import psutil

        self._psutil = psutil
        self._clock = clock
        self._lock = threading.Lock()
        self._procs: dict[str, _Tracked] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        for name, pid in (pids or {}).items():
            self.add(name, pid)

    def add(self, name: str, pid: int, children: bool = True) -> None:
        """Track ``pid`` as ``name``; ``children=False`` leaves its child processes out (e.g.
        the benchmark process itself, whose children are the measured nodes)."""
        with self._lock:
            self._procs[name] = _Tracked(int(pid), bool(children))

    @property
    def names(self) -> list[str]:
        with self._lock:
            return list(self._procs)

    def _measure(self, pid: int, children: bool = True) -> tuple[int, float] | None:
        ps = self._psutil
        try:
            proc = ps.Process(pid)
            procs = [proc] + (proc.children(recursive=True) if children else [])
        except (ps.NoSuchProcess, ps.ZombieProcess, ps.AccessDenied):
            return None
        rss, cpu = 0, 0.0
        for p in procs:
            try:
                with p.oneshot():
                    if p.status() == ps.STATUS_ZOMBIE:
                        continue
                    rss += p.memory_info().rss
                    t = p.cpu_times()
                    cpu += t.user + t.system
            except (ps.NoSuchProcess, ps.ZombieProcess, ps.AccessDenied):
                if p is proc:
                    return None
        return rss, cpu

    def sample(self) -> dict[str, ProcSample]:
        now = self._clock()
        with self._lock:
            items = list(self._procs.items())
        out = {}
        for name, tracked in items:
            m = self._measure(tracked.pid, tracked.children)
            if m is None:
                last = tracked.samples[-1] if tracked.samples else ProcSample(now, 0, 0.0)
                s = ProcSample(now, last.rss, last.cpu_s, alive=False)
            else:
                s = ProcSample(now, m[0], m[1])
            with self._lock:
                tracked.samples.append(s)
            out[name] = s
        return out

    def start(self, interval_s: float = 0.5) -> None:
        self._stop.clear()

        def loop():
            while not self._stop.is_set():
                self.sample()
                self._stop.wait(interval_s)

        self._thread = threading.Thread(target=loop, name="ProcessSampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None

    def samples(self, name: str) -> list[ProcSample]:
        with self._lock:
            return list(self._procs[name].samples)

    def rss_series(self, name: str) -> list[tuple[float, int]]:
        return [(s.t, s.rss) for s in self.samples(name) if s.alive]

    def alive(self, name: str) -> bool:
        s = self.samples(name)
        return bool(s) and s[-1].alive

    @staticmethod
    def _closest(samples: Sequence[ProcSample], t: float) -> ProcSample:
        return min(samples, key=lambda s: abs(s.t - t))

    def cpu_percent(self, name: str, t0: float, t1: float) -> float:
        samples = [s for s in self.samples(name) if s.alive]
        if len(samples) < 2:
            return NAN
        a, b = self._closest(samples, t0), self._closest(samples, t1)
        if b.t <= a.t:
            return NAN
        return 100.0 * (b.cpu_s - a.cpu_s) / (b.t - a.t)

    def rss_stats(self, name: str, t0: float = -math.inf, t1: float = math.inf
                  ) -> dict[str, float]:
        """RSS in MiB over [t0, t1]: first, last, max (NaN when no sample)."""
        vals = [r for t, r in self.rss_series(name) if t0 <= t <= t1]
        if not vals:
            return {"first_mib": NAN, "last_mib": NAN, "max_mib": NAN}
        mib = 1024.0 * 1024.0
        return {"first_mib": vals[0] / mib, "last_mib": vals[-1] / mib,
                "max_mib": max(vals) / mib}


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


# ------------------------------------------------------------------------------ machine
def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def machine_info() -> dict[str, object]:
    """What the numbers were measured on."""
    info: dict[str, object] = {
        "cpu_model": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "machine": platform.machine(),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }
    try:
        import psutil

        info["physical_cores"] = psutil.cpu_count(logical=False)
        info["memory_gib"] = round(psutil.virtual_memory().total / 2**30, 1)
        try:
            info["cpu_affinity"] = len(psutil.Process().cpu_affinity())
        except (AttributeError, OSError):
            pass
    except ImportError:
        pass
    try:
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    return info


def format_table(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    """Plain-text table, columns right-aligned except the first; floats with 1 decimal."""
    def cell(v: object) -> str:
        if isinstance(v, float):
            return "-" if v != v else f"{v:.1f}"
        return str(v)

    text = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in text]) for i, h in enumerate(header)]
    def line(vals):
        return "  ".join(v.ljust(w) if i == 0 else v.rjust(w)
                         for i, (v, w) in enumerate(zip(vals, widths)))
    out = [line(list(header)), line(["-" * w for w in widths])]
    out += [line(r) for r in text]
    return "\n".join(out)
