"""What every fer_ros node shares (:class:`FerNodeMixin`): parameters declared from a
``ParamSpec`` table and validated by a pure check function (also on later sets), counters,
throttled reject/failure logging and the frame input whose lost messages are counted
(:mod:`fer_ros.message_loss`). :class:`FerNode` is the base of the plain nodes (camera,
annotator); the managed ones derive from :class:`fer_ros.nodes.lifecycle.FerLifecycleNode`.

Every node exposes ``stats() -> dict`` (counters), which the /diagnostics publisher reads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from rclpy.node import Node

from fer_ros.message_loss import MessageLoss
from fer_ros.nodes.node_diagnostics import NodeDiagnostics
from fer_ros.parameters import ParamSpec, install_validation, undeclared_message


class FerNodeMixin(NodeDiagnostics):
    """What every fer_ros node shares: parameters from a spec table, counters, throttled
    logging, the counted frame input and (:class:`NodeDiagnostics`) the /diagnostics
    publisher.

    Mixed into :class:`FerNode` (rclpy ``Node``) and :class:`FerLifecycleNode`
    (``rclpy.lifecycle.LifecycleNode``).
    """

    PARAMS: Sequence[ParamSpec] = ()

    def __init__(self, node_name: str, **kwargs: Any) -> None:
        super().__init__(node_name, **kwargs)  # type: ignore[call-arg]
        # stats() is also read from other threads (tests, the pipeline's caller)
        self._counter_lock = threading.Lock()
        self._counters: dict[str, int] = {}
        self._stats_timer = None
        self._frame_loss: MessageLoss | None = None   # set by create_frame_subscription()
        self._init_diagnostics()

    # -- parameters ----------------------------------------------------------------------
    def _declare_params(self, check: Callable[[dict[str, Any]], list[str]],
                        apply: Callable[[dict[str, Any]], None] | None = None
                        ) -> dict[str, Any]:
        """Declare PARAMS, validate them with the pure ``check`` and wire it for later sets.

        Also starts the stats log timer and the /diagnostics publisher (when enabled)."""
        values = install_validation(self, self.PARAMS, check, apply)
        self.log_throttle_s = float(values.get("log_throttle_s", 5.0))
        period = float(values.get("stats_period_s", 0.0))
        if period > 0:
            self._stats_timer = self.create_timer(period, self._log_stats)
        diag_period = float(values.get("diagnostics_period_s", 0.0))
        if diag_period > 0:
            self._start_diagnostics(diag_period)
        return values

    def param(self, name: str) -> Any:
        return self.get_parameter(name).value

    def param_values(self) -> dict[str, Any]:
        """The current value of every parameter in PARAMS."""
        return {spec.name: self.param(spec.name) for spec in self.PARAMS}

    def set_parameters_atomically(self, parameter_list):  # type: ignore[override]
        """rclpy's own, except that setting an undeclared parameter names it (rclpy's
        message lists none: ``Invalid access to undeclared parameter(s): []``)."""
        from rclpy.exceptions import ParameterNotDeclaredException

        unknown = [p.name for p in parameter_list if not self.has_parameter(p.name)]
        if unknown:
            error = ParameterNotDeclaredException(unknown)
            error.args = (undeclared_message(self.get_name(), unknown, self.PARAMS),)
            raise error
        return super().set_parameters_atomically(parameter_list)  # type: ignore[misc]

    # -- counters ------------------------------------------------------------------------
    def count(self, name: str, n: int = 1) -> None:
        with self._counter_lock:
            self._counters[name] = self._counters.get(name, 0) + n

    def stats(self) -> dict[str, Any]:
        """The counters; with a frame subscription also ``dropped`` (its messages lost
        before the node took them) and ``dropped_measured`` (False: ``dropped`` is unknown,
        see :mod:`fer_ros.message_loss`)."""
        with self._counter_lock:
            out: dict[str, Any] = dict(self._counters)
            if self._frame_loss is not None:
                out["dropped"] = self._frame_loss.lost
                out["dropped_measured"] = self._frame_loss.measured
            return out

    # -- the frame input -------------------------------------------------------------------
    def create_frame_subscription(self, msg_type: Any, topic: str,
                                  callback: Callable[[Any], None], qos: Any):
        """Subscribe to the node's frame input; messages its publishers sent that never
        reached ``callback`` are counted (``stats()["dropped"]``), from the start of this
        subscription on."""
        loss = self._frame_loss = self._frame_loss or MessageLoss()
        with self._counter_lock:
            loss.restart()
        if not message_info_supported():
            loss.not_measurable()
            return self.create_subscription(msg_type, topic, callback, qos)

        def with_info(msg: Any, info: dict) -> None:
            gid = info.get("publisher_gid") or {}
            with self._counter_lock:
                loss.observe(bytes(gid.get("data", b"")),
                             info.get("publication_sequence_number"))
            callback(msg)

        return self.create_subscription(msg_type, topic, with_info, qos)

    def _log_stats(self) -> None:
        self.get_logger().info("stats: " + ", ".join(f"{k}={v}" for k, v in
                                                      sorted(self.stats().items())))

    def reject(self, what: str, reason: str) -> None:
        """Count a rejected input and log it, throttled (the node keeps running)."""
        self.count("rejected")
        self.get_logger().error(f"rejected {what}: {reason} (rejected so far: "
                                f"{self.stats().get('rejected', 0)})",
                                throttle_duration_sec=self.log_throttle_s)

    def failed(self, what: str, exc: BaseException) -> None:
        """Count an unexpected processing failure and log it, throttled."""
        if not self.context.ok():
            return  # shutting down: publishing into a closed context fails, nothing to report
        self.count("failed")
        self.get_logger().error(f"{what} failed: {type(exc).__name__}: {exc}",
                                throttle_duration_sec=self.log_throttle_s)


class FerNode(FerNodeMixin, Node):
    """Base class of the plain (non-lifecycle) nodes: camera, annotator."""


def message_info_supported() -> bool:
    """Whether this rclpy passes MessageInfo (with sequence numbers) to a subscription
    callback that takes two arguments: Iron and later, not Humble."""
    from rclpy.subscription import Subscription

    return hasattr(Subscription, "CallbackType")


def init_or_destroy(node: Node, init: Callable[[], None]) -> None:
    """Run the rest of a node's constructor; destroy the half-built node if it raises."""
    try:
        init()
    except BaseException:
        node.destroy_node()
        raise
