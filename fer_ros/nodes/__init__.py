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

This module holds what the nodes share: :class:`FerNode` (parameter declaration from a
``ParamSpec`` table, pure validation wired to the set-parameters callback, counters,
throttled error logging) and :func:`run_node` (the ``main()`` of every executable: clean
start-up errors without a traceback, MultiThreadedExecutor, Ctrl-C).

Every node exposes ``stats() -> dict`` (counters); a later /diagnostics publisher can read it.
"""

from __future__ import annotations

import functools
import sys
import threading
from typing import Any, Callable, Sequence

import rclpy
from rclpy.node import Node

from fer_ros.parameters import ParameterError, ParamSpec, install_validation

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
    for module, name in (("fer_ros.frame_sources", "SourceError"),
                         ("fer_ros.emotion_classifier", "ModelLoadError"),
                         ("fer_ros.face_detection", "FaceDetectorError")):
        try:
            mod = __import__(module, fromlist=[name])
            types.append(getattr(mod, name))
        except Exception:  # noqa: BLE001 - module not importable: nothing to catch from it
            pass
    return tuple(types)


class FerNode(Node):
    """Base class: parameters from a spec table, counters, throttled logging."""

    PARAMS: Sequence[ParamSpec] = ()

    def __init__(self, node_name: str, **kwargs: Any) -> None:
        super().__init__(node_name, **kwargs)
        self._counter_lock = threading.Lock()
        self._counters: dict[str, int] = {}
        self._stats_timer = None

    # -- parameters ----------------------------------------------------------------------
    def _declare_params(self, check: Callable[[dict[str, Any]], list[str]],
                        apply: Callable[[dict[str, Any]], None] | None = None
                        ) -> dict[str, Any]:
        """Declare PARAMS, validate them with the pure ``check`` and wire it for later sets."""
        values = install_validation(self, self.PARAMS, check, apply)
        self.log_throttle_s = float(values.get("log_throttle_s", 5.0))
        period = float(values.get("stats_period_s", 0.0))
        if period > 0:
            self._stats_timer = self.create_timer(period, self._log_stats)
        return values

    def param(self, name: str) -> Any:
        return self.get_parameter(name).value

    # -- counters ------------------------------------------------------------------------
    def count(self, name: str, n: int = 1) -> None:
        with self._counter_lock:
            self._counters[name] = self._counters.get(name, 0) + n

    def stats(self) -> dict[str, Any]:
        with self._counter_lock:
            return dict(self._counters)

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


def init_or_destroy(node: Node, init: Callable[[], None]) -> None:
    """Run the rest of a node's constructor; destroy the half-built node if it raises."""
    try:
        init()
    except BaseException:
        node.destroy_node()
        raise


def spin_nodes(nodes: Sequence[Node], num_threads: int | None = None,
               stop: threading.Event | None = None, context=None) -> None:
    """Spin ``nodes`` in one MultiThreadedExecutor until shutdown (or ``stop`` is set)."""
    from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor

    executor = MultiThreadedExecutor(num_threads=num_threads, context=context)
    for node in nodes:
        executor.add_node(node)
    try:
        if stop is None:
            executor.spin()
        else:
            while not stop.is_set() and rclpy.ok(context=context):
                executor.spin_once(timeout_sec=0.1)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        executor.shutdown(timeout_sec=1.0)


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


@quiet_interrupt
def run_node(node_factory: Callable[[], Node], args: list[str] | None = None,
             name: str = "fer_ros", num_threads: int = 2) -> int:
    """``main()`` body shared by the single-node executables. Returns the exit code."""
    rclpy.init(args=sys.argv if args is None else args)
    node = None
    try:
        try:
            node = node_factory()
        except startup_error_types() as exc:
            rclpy.logging.get_logger(name).fatal(f"cannot start: {exc}")
            return 1
        spin_nodes([node], num_threads=num_threads)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
