"""The fer_ros ROS 2 nodes: thin adapters over the ROS-free modules.

=================  ========================================  ==================================
executable         node class                                topics
=================  ========================================  ==================================
camera             camera_node.CameraNode                    -> image_raw, camera_info
face_detector      face_detector_node.FaceDetectorNode       image_raw -> faces
emotion            emotion_node.EmotionNode                  faces -> emotions
annotator          annotator_node.AnnotatorNode              image_raw + emotions ->
                                                             image_annotated(/compressed)
=================  ========================================  ==================================

This module holds what the nodes share: :class:`FerNodeMixin` (parameter declaration from a
``ParamSpec`` table, pure validation wired to the set-parameters callback, counters,
throttled error logging, processing times, the /diagnostics publisher and the frame input
whose lost messages are counted), the bases :class:`FerNode` (camera, annotator) and
:class:`FerLifecycleNode` (face_detector, emotion: managed nodes, see docs/NODES.md) and
:func:`run_node` (the ``main()`` of every executable: clean start-up errors without a
traceback, a SingleThreadedExecutor, Ctrl-C).

Concurrency: one thread per process runs every callback (:func:`spin_node`, and
``fer_ros.pipeline`` for the four nodes in one process), so a callback never overlaps
another one of the same node. A node busy with a frame leaves the next ones in its input's
KEEP_LAST history (depth 1 for the face_detector: only the newest frame waits); the ones
overwritten there never reach the node and are counted as ``dropped`` from the gaps in the
publisher's sequence numbers (:mod:`fer_ros.message_loss`).

Every node exposes ``stats() -> dict`` (counters), which the /diagnostics publisher reads.
"""

from __future__ import annotations

import functools
import socket
import sys
import threading
import time
from typing import Any, Callable, Sequence

import rclpy
from rclpy.lifecycle import LifecycleNode
from rclpy.node import Node

from fer_ros.budget import limit_malloc_retention
from fer_ros.dds import use_large_data_profile
from fer_ros.diagnostics import DiagnosticsTracker, ProcessingTimes, Report, Thresholds
from fer_ros.message_loss import MessageLoss
from fer_ros.parameters import (ParameterError, ParamSpec, install_validation, make_qos,
                                undeclared_message)

#: executable name -> (module, class, default node name)
NODE_CLASSES = {
    "camera": ("fer_ros.nodes.camera_node", "CameraNode", "camera"),
    "face_detector": ("fer_ros.nodes.face_detector_node", "FaceDetectorNode", "face_detector"),
    "emotion": ("fer_ros.nodes.emotion_node", "EmotionNode", "emotion"),
    "annotator": ("fer_ros.nodes.annotator_node", "AnnotatorNode", "annotator"),
}


class StartupError(RuntimeError):
    """A node cannot start (bad source, missing model...); the message says why."""


def startup_error_types() -> tuple[type[BaseException], ...]:
    """Exceptions that mean "cannot start, here is why" (no traceback is printed)."""
    from rclpy.exceptions import NameValidationException, ParameterException

    types: list[type[BaseException]] = [StartupError, ParameterError, ParameterException,
                                        NameValidationException]
    for module, name in (("fer_ros.sources", "SourceError"),
                         ("fer_ros.emotion_classifier", "ModelLoadError"),
                         ("fer_ros.face_detection", "FaceDetectorError")):
        try:
            mod = __import__(module, fromlist=[name])
            types.append(getattr(mod, name))
        except Exception:  # noqa: BLE001 - module not importable: nothing to catch from it
            pass
    return tuple(types)


class FerNodeMixin:
    """What every fer_ros node shares: parameters from a spec table, counters, throttled
    logging, processing-time samples and the /diagnostics publisher.

    Mixed into :class:`FerNode` (rclpy ``Node``) and :class:`FerLifecycleNode`
    (``rclpy.lifecycle.LifecycleNode``).
    """

    PARAMS: Sequence[ParamSpec] = ()
    #: counters that count inputs / outputs / dropped inputs / faces (diagnostics)
    DIAG_INPUT = "received"
    DIAG_OUTPUT = "processed"
    DIAG_DROPPED = "dropped"
    DIAG_FACES: str | None = None

    def __init__(self, node_name: str, **kwargs: Any) -> None:
        super().__init__(node_name, **kwargs)  # type: ignore[call-arg]
        # stats() is also read from other threads (tests, the pipeline's caller)
        self._counter_lock = threading.Lock()
        self._counters: dict[str, int] = {}
        self._stats_timer = None
        self.processing_times = ProcessingTimes()
        self._diag_tracker = DiagnosticsTracker(self.DIAG_INPUT, self.DIAG_OUTPUT,
                                                self.DIAG_FACES, self.DIAG_DROPPED)
        self._diag_lock = threading.Lock()
        self._frame_loss: MessageLoss | None = None   # set by create_frame_subscription()
        self._diag_pub = None
        self._diag_timer = None

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
            from diagnostic_msgs.msg import DiagnosticArray

            self._diag_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
            self._diag_timer = self.create_timer(diag_period, self._publish_diagnostics)
            self._diag_tracker.reset(time.monotonic(), {})   # counters start at 0
        return values

    def param(self, name: str) -> Any:
        return self.get_parameter(name).value

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

    # -- diagnostics ---------------------------------------------------------------------
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


class FerNode(FerNodeMixin, Node):
    """Base class of the plain (non-lifecycle) nodes: camera, annotator."""


class TransitionFailed(StartupError):
    """A lifecycle transition of a fer_ros node did not succeed."""


class FerLifecycleNode(FerNodeMixin, LifecycleNode):
    """Base class of the managed nodes (face_detector, emotion).

    Subclasses implement ``_lc_configure()`` (load the model, create the lifecycle publisher
    ``_pub``), ``_lc_activate()`` (create the subscription ``_sub`` with
    :meth:`_subscribe_input`) and ``_lc_cleanup()`` (release the model; call
    ``_release_publisher()``); each raises on failure. ``_lc_deactivate()`` destroys the
    subscription (no frame is in progress then: transitions run on the node's one executor
    thread, between callbacks). The transition callbacks here turn an exception into
    FAILURE with one clear log line and keep the error for :meth:`bring_up`. With the
    read-only ``autostart`` parameter (default true) the constructor brings the node to
    active itself.
    """

    def __init__(self, node_name: str, **kwargs: Any) -> None:
        super().__init__(node_name, **kwargs)
        self.transition_error: BaseException | None = None
        self._pub = None
        self._sub = None

    # -- hooks -----------------------------------------------------------------------------
    def _lc_configure(self) -> None: ...

    def _lc_activate(self) -> None: ...

    def _lc_deactivate(self) -> None:
        if self._sub is not None:
            self.destroy_subscription(self._sub)
            self._sub = None

    def _subscribe_input(self, msg_type: Any, topic: str, callback: Callable[[Any], None]):
        """Create ``self._sub``, the frame subscription on the input topic with the node's
        reliability/qos_depth."""
        self._sub = self.create_frame_subscription(
            msg_type, topic, callback,
            make_qos(self.param("reliability"), self.param("qos_depth")))
        return self._sub

    def _release_publisher(self) -> None:
        if self._pub is not None:
            self.destroy_lifecycle_publisher(self._pub)
            self._pub = None

    def _lc_cleanup(self) -> None: ...

    # -- state -----------------------------------------------------------------------------
    @property
    def lifecycle_state(self) -> str:
        """'unconfigured', 'inactive', 'active', 'finalized' (or a transition state)."""
        return str(self._state_machine.current_state[1])

    def bring_up(self) -> None:
        """configure + activate (trigger_configure / trigger_activate); raises the
        configure/activate error (e.g. ModelLoadError naming the path) when one fails."""
        from rclpy.lifecycle import TransitionCallbackReturn

        for name, trigger in (("configure", self.trigger_configure),
                              ("activate", self.trigger_activate)):
            self.transition_error = None
            ret = trigger()
            if ret != TransitionCallbackReturn.SUCCESS:
                if self.transition_error is not None:
                    raise self.transition_error
                raise TransitionFailed(f"{self.get_name()}: {name} failed "
                                       f"({ret.to_label()}) in state {self.lifecycle_state}")

    def _guard(self, what: str, func: Callable[[], None], undo: Callable[[], None] | None):
        from rclpy.lifecycle import TransitionCallbackReturn

        try:
            func()
        except Exception as exc:  # noqa: BLE001 - reported as a failed transition
            self.transition_error = exc
            self.get_logger().error(f"{what} failed: {exc}")
            if undo is not None:
                try:
                    undo()
                except Exception as exc2:  # noqa: BLE001
                    self.get_logger().error(f"clean-up after failed {what}: {exc2}")
            return TransitionCallbackReturn.FAILURE
        return TransitionCallbackReturn.SUCCESS

    # -- transition callbacks ------------------------------------------------------------
    def on_configure(self, state):
        from rclpy.lifecycle import TransitionCallbackReturn

        ret = self._guard("configure", self._lc_configure, self._lc_cleanup)
        if ret != TransitionCallbackReturn.SUCCESS:
            return ret
        return super().on_configure(state)

    def on_activate(self, state):
        from rclpy.lifecycle import TransitionCallbackReturn

        ret = super().on_activate(state)          # enables the lifecycle publishers
        if ret != TransitionCallbackReturn.SUCCESS:
            return ret
        ret = self._guard("activate", self._lc_activate, self._lc_deactivate)
        if ret != TransitionCallbackReturn.SUCCESS:
            super().on_deactivate(state)
            return ret
        self.diagnostics_restart()
        return ret

    def on_deactivate(self, state):
        ret = self._guard("deactivate", self._lc_deactivate, None)
        super().on_deactivate(state)             # disables the lifecycle publishers
        return ret

    def on_cleanup(self, state):
        ret = self._guard("cleanup", self._lc_cleanup, None)
        super().on_cleanup(state)
        return ret

    def on_shutdown(self, state):
        from rclpy.lifecycle import TransitionCallbackReturn

        if state.label == "active":
            self._guard("deactivate", self._lc_deactivate, None)
            super().on_deactivate(state)
        if state.label in ("active", "inactive"):
            self._guard("cleanup", self._lc_cleanup, None)
        return TransitionCallbackReturn.SUCCESS

    def on_error(self, state):
        from rclpy.lifecycle import TransitionCallbackReturn

        self._guard("deactivate", self._lc_deactivate, None)
        self._guard("cleanup", self._lc_cleanup, None)
        return TransitionCallbackReturn.SUCCESS

    # -- diagnostics -------------------------------------------------------------------------
    def diagnostics_expects_input(self) -> tuple[bool, str]:
        state = self.lifecycle_state
        return (True, "") if state == "active" else (False, f"lifecycle state {state}")

    def diagnostics_values(self) -> list[tuple[str, Any]]:
        return [("lifecycle_state", self.lifecycle_state)]

    def destroy_node(self) -> None:
        try:
            if self.lifecycle_state == "active":
                self._lc_deactivate()
            if self.lifecycle_state in ("active", "inactive"):
                self._lc_cleanup()
        except Exception:  # noqa: BLE001 - destroying anyway
            pass
        super().destroy_node()


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


def quiet_interrupt(main_func: Callable[..., int]) -> Callable[..., int]:
    """Decorator for ``main()``: a Ctrl-C that lands outside spinning (during start-up or
    clean-up, e.g. right after rclpy's handler stopped the executor) exits quietly."""
    @functools.wraps(main_func)
    def wrapper(*args: Any, **kwargs: Any) -> int:
        try:
            return main_func(*args, **kwargs)
        except KeyboardInterrupt:
            return 0
    return wrapper


def spin_node(node: Node) -> None:
    """Spin one node in a SingleThreadedExecutor until shutdown.

    Not the MultiThreadedExecutor: in this rclpy its spinning thread re-submits entities that
    are still waiting for a worker, busy-loops holding the GIL and starves the callbacks
    (measured on the demo: 1.8 instead of 15 results/s). Shallow KEEP_LAST input histories
    keep the one thread from queuing work.
    """
    from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor

    executor = SingleThreadedExecutor(context=node.context)
    executor.add_node(node)
    try:
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        executor.shutdown(timeout_sec=1.0)


@quiet_interrupt
def run_node(node_factory: Callable[[], Node], args: list[str] | None = None,
             name: str = "fer_ros") -> int:
    """``main()`` body shared by the single-node executables. Returns the exit code."""
    use_large_data_profile()
    limit_malloc_retention()
    rclpy.init(args=sys.argv if args is None else args)
    node = None
    try:
        try:
            node = node_factory()
        except startup_error_types() as exc:
            rclpy.logging.get_logger(name).fatal(f"cannot start: {exc}")
            return 1
        spin_node(node)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
