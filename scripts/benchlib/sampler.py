"""RSS and CPU time of the graph's processes, sampled in a background thread (psutil)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

NAN = float("nan")


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
