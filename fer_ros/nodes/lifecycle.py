"""The base of the managed (lifecycle) fer_ros nodes, face_detector and emotion: the
transition callbacks around the ``_lc_*`` hooks, with one clear log line per failure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rclpy.lifecycle import LifecycleNode

from fer_ros.errors import StartupError
from fer_ros.nodes.base import FerNodeMixin, init_or_destroy
from fer_ros.parameters import make_qos


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
        self._process_timed = self.timed(self._process)

    def _start(self, check: Callable[[dict[str, Any]], list[str]],
               apply: Callable[[dict[str, Any]], None] | None = None) -> None:
        """The rest of a managed node's constructor: declare PARAMS (validated by ``check``,
        later changes passed to ``apply``), then configure + activate with ``autostart``;
        a node half built when this raises is destroyed."""
        def start() -> None:
            if self._declare_params(check, apply)["autostart"]:
                self.bring_up()
        init_or_destroy(self, start)

    # -- hooks -----------------------------------------------------------------------------
    def _lc_configure(self) -> None: ...

    def _lc_activate(self) -> None: ...

    def _lc_deactivate(self) -> None:
        if self._sub is not None:
            self.destroy_subscription(self._sub)
            self._sub = None

    #: what the node does with an input message (named when it fails)
    WORK = "processing"

    def _process(self, msg: Any) -> None: ...

    def _subscribe_input(self, msg_type: Any, topic: str):
        """Create ``self._sub``, the frame subscription on the input topic with the node's
        reliability/qos_depth; every message goes through :meth:`_on_input`."""
        self._sub = self.create_frame_subscription(
            msg_type, topic, self._on_input,
            make_qos(self.param("reliability"), self.param("qos_depth")))
        return self._sub

    def _on_input(self, msg: Any) -> None:
        """Count the message and process it (timed); a failure is reported, the node goes on."""
        self.count("received")
        try:
            self._process_timed(msg)
        except Exception as exc:  # noqa: BLE001 - reported, the node goes on
            self.failed(self.WORK, exc)

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

    # -- transitions -----------------------------------------------------------------------
    # Every transition, from trigger_* and from the change_state service, runs rclpy's private
    # LifecycleNodeMixin.__change_state. For a transition that is not valid in the current
    # state, Kilted's rclpy logs it and returns ERROR; Jazzy's (7.x) raises RCLError, out of
    # trigger_* and, for a change_state request that gives only the id, out of the executor
    # (the node process dies). This override makes it ERROR on both; test_lifecycle checks
    # both paths.
    def _LifecycleNodeMixin__change_state(self, transition_id: int):
        from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy
        from rclpy.lifecycle import TransitionCallbackReturn
        from rclpy.lifecycle.node import LifecycleNodeMixin

        try:
            return LifecycleNodeMixin._LifecycleNodeMixin__change_state(self, transition_id)
        except _rclpy.RCLError as exc:
            self.get_logger().error(
                f"transition {transition_id} refused in state {self.lifecycle_state}: {exc}")
            return TransitionCallbackReturn.ERROR

    def try_bring_up(self) -> tuple[str, BaseException | None] | None:
        """configure + activate (trigger_configure / trigger_activate). None when the node
        is active, else (which transition failed and why, the error it raised or None)."""
        from rclpy.lifecycle import TransitionCallbackReturn

        for name, trigger in (("configure", self.trigger_configure),
                              ("activate", self.trigger_activate)):
            self.transition_error = None
            ret = trigger()
            if ret != TransitionCallbackReturn.SUCCESS:
                cause = self.transition_error
                why = (f"{type(cause).__name__}: {cause}" if cause is not None
                       else f"{ret.to_label()} (state {self.lifecycle_state})")
                return f"{name} failed: {why}", cause
        return None

    def bring_up(self) -> None:
        """:meth:`try_bring_up`, raising the configure/activate error (e.g. ModelLoadError
        naming the path), or TransitionFailed, when one fails."""
        failure = self.try_bring_up()
        if failure is not None:
            what, cause = failure
            raise cause if cause is not None else TransitionFailed(f"{self.get_name()}: {what}")

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
                except Exception as exc2:  # noqa: BLE001 - the first error is the one reported
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
