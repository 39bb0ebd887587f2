"""Node health for /diagnostics, ROS-free (no diagnostic_updater wheel exists on PyPI).

Each node keeps counters (``FerNode.count``) and per-item processing times. Once per
``diagnostics_period_s`` the node hands a snapshot of its counters to a
:class:`DiagnosticsTracker`, which turns it into a :class:`Report`: a level (OK / WARN /
ERROR, the ``diagnostic_msgs/DiagnosticStatus`` byte values), a one-line message and a list of
(key, value) strings. The ROS side (``fer_ros.nodes``) only copies a report into a
``DiagnosticArray``.

Levels (:func:`evaluate`), worst wins:

* ERROR: mean processing time over the window >= ``processing_time_error_ms``; or processing
  failed (``failed`` counter) and nothing was produced in the window.
* WARN: mean processing time >= ``processing_time_warn_ms``; no input for
  ``stale_input_s`` seconds while the node expects input (``stale_input_s`` = 0 disables);
  input rate below ``min_input_rate_hz`` (0 disables); rejected inputs or failures in the
  window; a node-specific problem (e.g. a camera below its rate, :class:`RateKeeping`).
* OK otherwise; a node that does not expect input (e.g. an inactive lifecycle node, a camera
  whose finite source ended) is OK with a message saying so.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fer_ros.parameters import ParamSpec

OK, WARN, ERROR = 0, 1, 2


def percentile(values: Iterable[float], q: float) -> float:
    """The ``q``-th percentile (0..100) with linear interpolation between closest ranks
    (NumPy's default method); NaN for no values."""
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile q must be in [0, 100], got {q}")
    arr = np.asarray(values if isinstance(values, np.ndarray) else list(values), float)
    if arr.size == 0:
        return math.nan
    return float(np.percentile(arr, q))


def diagnostics_specs(warn_ms: float = 100.0, error_ms: float = 500.0,
                      stale_input_s: float = 5.0) -> tuple[ParamSpec, ...]:
    """The diagnostics parameters every fer_ros node declares."""
    return (
        ParamSpec("diagnostics_period_s", 1.0, "Publish a diagnostic_msgs/DiagnosticArray on "
                  "/diagnostics every this many seconds (rates and processing times are "
                  "computed over this window); 0 disables.", read_only=True,
                  min=0.0, max=3600.0),
        ParamSpec("processing_time_warn_ms", float(warn_ms), "Diagnostics: WARN when the "
                  "mean processing time per item over the window reaches this (ms).",
                  min=0.0, max=1e6),
        ParamSpec("processing_time_error_ms", float(error_ms), "Diagnostics: ERROR when the "
                  "mean processing time per item over the window reaches this (ms); must be "
                  ">= processing_time_warn_ms.", min=0.0, max=1e6),
        ParamSpec("min_input_rate_hz", 0.0, "Diagnostics: WARN when the input rate over the "
                  "window is below this (Hz); 0 disables.", min=0.0, max=10000.0),
        ParamSpec("stale_input_s", float(stale_input_s), "Diagnostics: WARN when no input "
                  "arrived for this many seconds while the node expects input; 0 disables.",
                  min=0.0, max=3600.0),
    )


def check_thresholds(values: Mapping[str, Any]) -> list[str]:
    """Cross-parameter rule: the ERROR threshold is not below the WARN threshold."""
    warn, err = values.get("processing_time_warn_ms"), values.get("processing_time_error_ms")
    if isinstance(warn, (int, float)) and isinstance(err, (int, float)) and err < warn:
        return [f"processing_time_error_ms: {err} is below processing_time_warn_ms {warn}"]
    return []


@dataclass(frozen=True)
class Thresholds:
    processing_time_warn_ms: float = 100.0
    processing_time_error_ms: float = 500.0
    min_input_rate_hz: float = 0.0
    stale_input_s: float = 5.0

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> Thresholds:
        return cls(**{k: float(values[k]) for k in cls.__dataclass_fields__ if k in values})


class ProcessingTimes:
    """Thread-safe bounded buffer of processing durations (seconds); drained per window."""

    def __init__(self, maxlen: int = 10000) -> None:
        self._lock = threading.Lock()
        self._samples: deque[float] = deque(maxlen=maxlen)

    def add(self, seconds: float) -> None:
        with self._lock:
            self._samples.append(float(seconds))

    def drain(self) -> list[float]:
        with self._lock:
            out = list(self._samples)
            self._samples.clear()
            return out


@dataclass
class Window:
    """What happened between two snapshots."""

    seconds: float
    deltas: dict[str, int]
    times_ms: list[float]
    idle_s: float | None          # seconds since the last input (None: never had input)

    def rate(self, key: str) -> float:
        return self.deltas.get(key, 0) / self.seconds if self.seconds > 0 else 0.0


@dataclass
class Report:
    level: int
    message: str
    values: list[tuple[str, str]] = field(default_factory=list)


def evaluate(window: Window, thresholds: Thresholds, *, input_key: str = "received",
             output_key: str = "processed", expects_input: bool = True,
             idle_reason: str = "", problems: Sequence[tuple[int, str]] = ()
             ) -> tuple[int, str]:
    """Pure level computation for one window: returns (level, message). ``problems``:
    node-specific (level, message) pairs, counted only while the node expects input."""
    if not expects_input:
        return OK, idle_reason or "idle"
    problems = list(problems)
    if window.times_ms:
        mean = sum(window.times_ms) / len(window.times_ms)
        if thresholds.processing_time_error_ms > 0 and \
                mean >= thresholds.processing_time_error_ms:
            problems.append((ERROR, f"processing time {mean:.1f} ms >= "
                                    f"{thresholds.processing_time_error_ms:g} ms"))
        elif thresholds.processing_time_warn_ms > 0 and \
                mean >= thresholds.processing_time_warn_ms:
            problems.append((WARN, f"processing time {mean:.1f} ms >= "
                                   f"{thresholds.processing_time_warn_ms:g} ms"))
    failed = window.deltas.get("failed", 0)
    if failed:
        level = ERROR if window.deltas.get(output_key, 0) <= failed else WARN
        problems.append((level, f"{failed} processing failures"))
    rejected = window.deltas.get("rejected", 0)
    if rejected:
        problems.append((WARN, f"{rejected} inputs rejected"))
    if thresholds.stale_input_s > 0 and window.idle_s is not None and \
            window.idle_s >= thresholds.stale_input_s:
        problems.append((WARN, f"no input for {window.idle_s:.1f} s"))
    elif thresholds.min_input_rate_hz > 0 and \
            window.rate(input_key) < thresholds.min_input_rate_hz:
        problems.append((WARN, f"input rate {window.rate(input_key):.1f} Hz < "
                               f"{thresholds.min_input_rate_hz:g} Hz"))
    if not problems:
        return OK, "ok"
    level = max(p[0] for p in problems)
    return level, "; ".join(m for _, m in sorted(problems, key=lambda p: -p[0]))


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.3f}".rstrip("0").rstrip(".")
    return str(value)


class DiagnosticsTracker:
    """Turns successive counter snapshots into :class:`Report` s (one per period).

    ``input_key`` / ``output_key`` name the counters that count inputs / outputs;
    ``faces_key`` (optional) the counter of faces, reported per output; ``dropped_key`` the
    counter of inputs lost before the node took them (reported as ``unknown`` when the
    counters say ``dropped_measured: False``, see :mod:`fer_ros.message_loss`).
    """

    def __init__(self, input_key: str = "received", output_key: str = "processed",
                 faces_key: str | None = None, dropped_key: str = "dropped") -> None:
        self.input_key, self.output_key = input_key, output_key
        self.faces_key, self.dropped_key = faces_key, dropped_key
        self._last: dict[str, int] | None = None
        self._last_t = 0.0
        self._last_input_t: float | None = None
        self._since = 0.0

    def reset(self, now: float, counters: Mapping[str, Any]) -> None:
        """Start a new window now (e.g. on activation): rates and staleness restart."""
        self._last = _numeric(counters)
        self._last_t = now
        self._since = now
        self._last_input_t = None

    def update(self, now: float, counters: Mapping[str, Any], times_s: Iterable[float],
               thresholds: Thresholds, *, expects_input: bool = True, idle_reason: str = "",
               extra: Sequence[tuple[str, Any]] = (),
               problems: Sequence[tuple[int, str]] = ()) -> Report:
        current = _numeric(counters)
        if self._last is None:
            self.reset(now, counters)
            last, seconds = dict(current), 0.0
        else:
            last, seconds = self._last, now - self._last_t
        deltas = {k: v - last.get(k, 0) for k, v in current.items()}
        if deltas.get(self.input_key, 0) > 0:
            self._last_input_t = now
        reference = self._last_input_t if self._last_input_t is not None else self._since
        window = Window(seconds=seconds, deltas=deltas,
                        times_ms=[1e3 * t for t in times_s], idle_s=now - reference)
        level, message = evaluate(window, thresholds, input_key=self.input_key,
                                  output_key=self.output_key, expects_input=expects_input,
                                  idle_reason=idle_reason, problems=problems)
        self._last, self._last_t = current, now
        measured = counters.get("dropped_measured", True) is not False
        times = window.times_ms
        values: list[tuple[str, Any]] = list(extra)
        values += [
            ("input_rate_hz", window.rate(self.input_key)),
            ("output_rate_hz", window.rate(self.output_key)),
            ("processing_time_ms_mean", sum(times) / len(times) if times else math.nan),
            ("processing_time_ms_p95", percentile(times, 95) if times else math.nan),
            ("processing_time_ms_max", max(times) if times else math.nan),
            ("processing_time_warn_ms", thresholds.processing_time_warn_ms),
            ("processing_time_error_ms", thresholds.processing_time_error_ms),
            ("dropped_frames", current.get(self.dropped_key, 0) if measured else "unknown"),
            ("dropped_frames_in_window",
             deltas.get(self.dropped_key, 0) if measured else "unknown"),
        ]
        if self.faces_key is not None:
            out = deltas.get(self.output_key, 0)
            values.append(("faces_per_frame",
                           deltas.get(self.faces_key, 0) / out if out else 0.0))
        values.append(("seconds_since_input",
                       now - self._last_input_t if self._last_input_t is not None
                       else math.nan))
        values.append(("window_s", seconds))
        values += sorted((f"total_{k}", v) for k, v in current.items())
        return Report(level, message, [(k, _fmt(v)) for k, v in values])


class RateKeeping:
    """Is a publisher keeping the rate it was asked for? (the camera's rule, ROS-free)

    :meth:`published` records each publish time; :meth:`problem` compares the rate achieved
    over the last window with the requested one. The window is ``window_s``, but at least
    ``MIN_PERIODS`` requested periods (so one frame more or less moves the rate by at most
    5 %). Nothing is judged until a whole window has passed since the first publish after
    :meth:`restart` (start, a new requested rate, a reopened device). Achieved rate:
    (n - 1) / (now - first) over the n publishes in the window, so a stall shows as soon as
    ``now`` moves on.
    """

    MIN_PERIODS = 20

    def __init__(self, requested_hz: float, now: float, window_s: float = 2.0,
                 tolerance: float = 0.1) -> None:
        self.window_s, self.tolerance = float(window_s), float(tolerance)
        self._times: deque[float] = deque()
        self.restart(requested_hz, now)

    def restart(self, requested_hz: float, now: float) -> None:
        self.requested_hz = float(requested_hz)
        self._since = now
        self._times.clear()
        self.count, self.first, self.last = 0, None, None   # publishes since the restart

    @property
    def window(self) -> float:
        return max(self.window_s, self.MIN_PERIODS / self.requested_hz)

    def published(self, now: float) -> None:
        self._times.append(now)
        self._forget(now)
        self.count += 1
        self.first = now if self.first is None else self.first
        self.last = now

    def overall_hz(self) -> float | None:
        """The rate from the first to the last publish since the restart (None: < 2)."""
        if self.count < 2 or self.last <= self.first:
            return None
        return (self.count - 1) / (self.last - self.first)

    def is_below(self, achieved_hz: float) -> bool:
        """The rule: below requested * (1 - tolerance)."""
        return achieved_hz < self.requested_hz * (1.0 - self.tolerance)

    def _forget(self, now: float) -> None:
        while self._times and self._times[0] <= now - self.window:
            self._times.popleft()

    def achieved_hz(self, now: float) -> float | None:
        """The rate over the last window; None until a whole window has passed since the
        first publish after the restart (or, with none, since the restart)."""
        if now - (self._since if self.first is None else self.first) < self.window:
            return None
        self._forget(now)
        n = len(self._times)
        return (n - 1) / (now - self._times[0]) if n >= 2 and now > self._times[0] else 0.0

    def problem(self, now: float) -> str | None:
        """A message when the achieved rate is below requested * (1 - tolerance), else None."""
        achieved = self.achieved_hz(now)
        if achieved is None or not self.is_below(achieved):
            return None
        return (f"publishing {achieved:.1f} frames/s, below the requested "
                f"{self.requested_hz:g} (over {self.window:g} s)")


def _numeric(counters: Mapping[str, Any]) -> dict[str, int]:
    return {k: int(v) for k, v in counters.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)}
