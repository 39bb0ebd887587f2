"""The /diagnostics side of a fer_ros node: processing-time samples, the window report
(pure rules in :mod:`fer_ros.diagnostics`) and its periodic DiagnosticArray publisher."""

from __future__ import annotations

import functools
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from fer_ros.diagnostics import DiagnosticsTracker, ProcessingTimes, Report, Thresholds


class NodeDiagnostics:
    """Mixed into :class:`fer_ros.nodes.base.FerNodeMixin`; needs its ``stats()`` and
    ``param()``. Subclasses name their counters with the ``DIAG_*`` attributes and may add
    values and problems with the ``diagnostics_*`` hooks."""

    #: counters that count inputs / outputs / dropped inputs / faces (diagnostics)
    DIAG_INPUT = "received"
    DIAG_OUTPUT = "processed"
    DIAG_DROPPED = "dropped"
    DIAG_FACES: str | None = None

    def _init_diagnostics(self) -> None:
        self.processing_times = ProcessingTimes()
        self._diag_tracker = DiagnosticsTracker(self.DIAG_INPUT, self.DIAG_OUTPUT,
                                                self.DIAG_FACES, self.DIAG_DROPPED)
        self._diag_lock = threading.Lock()
        self._diag_pub = None
        self._diag_timer = None

    def _start_diagnostics(self, period_s: float) -> None:
        """Publish on /diagnostics every ``period_s`` seconds, counting from 0 now."""
        from diagnostic_msgs.msg import DiagnosticArray

        self._diag_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self._diag_timer = self.create_timer(period_s, self._publish_diagnostics)
        self._diag_tracker.reset(time.monotonic(), {})   # counters start at 0

    def timed(self, func: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """Wrap a per-item processing function so its duration goes into diagnostics."""
        times = self.processing_times

        @functools.wraps(func)
        def wrapper(item: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return func(item)
            finally:
                times.add(time.perf_counter() - t0)
        return wrapper


    @property
    def diagnostics_name(self) -> str:
        return f"fer_ros: {self.get_fully_qualified_name().lstrip('/')}"

    def diagnostics_hardware_id(self) -> str:
        return socket.gethostname()

    def diagnostics_values(self) -> list[tuple[str, Any]]:
        """Node-specific key/values put first (e.g. the model in use)."""
        return []

    def diagnostics_expects_input(self) -> tuple[bool, str]:
        """(True, "") when the node should be receiving input now, else (False, why)."""
        return True, ""

    def diagnostics_problems(self) -> list[tuple[int, str]]:
        """Node-specific (level, message) problems of this window (e.g. a camera below its
        rate); the common ones come from :func:`fer_ros.diagnostics.evaluate`."""
        return []

    def diagnostics_report(self, now: float | None = None) -> Report:
        """One diagnostics window: the report since the previous call (pure computation in
        :mod:`fer_ros.diagnostics`)."""
        now = time.monotonic() if now is None else now
        thresholds = Thresholds.from_values(
            {name: self.param(name) for name in Thresholds.__dataclass_fields__
             if self.has_parameter(name)})
        expects, reason = self.diagnostics_expects_input()
        with self._diag_lock:
            return self._diag_tracker.update(
                now, self.stats(), self.processing_times.drain(), thresholds,
                expects_input=expects, idle_reason=reason, extra=self.diagnostics_values(),
                problems=self.diagnostics_problems())

    def diagnostics_restart(self) -> None:
        """Start a fresh diagnostics window (rates, staleness) now."""
        with self._diag_lock:
            self.processing_times.drain()
            self._diag_tracker.reset(time.monotonic(), self.stats())

    def _publish_diagnostics(self) -> None:
        from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

        try:
            report = self.diagnostics_report()
            status = DiagnosticStatus(
                level=bytes([report.level]), name=self.diagnostics_name,
                message=report.message, hardware_id=self.diagnostics_hardware_id(),
                values=[KeyValue(key=k, value=v) for k, v in report.values])
            msg = DiagnosticArray(status=[status])
            msg.header.stamp = self.get_clock().now().to_msg()
            self._diag_pub.publish(msg)
        except Exception as exc:  # noqa: BLE001 - diagnostics must never kill a node
            if self.context.ok():
                self.get_logger().error(f"diagnostics failed: {type(exc).__name__}: {exc}",
                                        throttle_duration_sec=60.0)
