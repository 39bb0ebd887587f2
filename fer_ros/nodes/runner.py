"""The one runner behind every fer_ros executable's ``main()``.

:func:`run` sets the process up (the DDS large-data profile, glibc's memory retention),
initialises rclpy with the command line, runs the executable's body and maps its end to the
exit code: 0 when it ends normally or on Ctrl-C (as ROS 2 nodes do), 1 when it cannot start
(a :class:`fer_ros.errors.StartupError` or an rclpy parameter / name error: the reason in
one line, no traceback). Ctrl-C is caught here and nowhere else, and only the first one
counts: a terminal Ctrl-C under `ros2 launch` signals the whole process group, then launch
sends SIGINT again, which must not interrupt the clean-up (see :class:`InterruptOnce`).
SIGUSR1 prints the stack of every thread to stderr (``kill -USR1 PID``: where a node that
does not end, or does not answer, is stuck) and the node goes on. Tearing the nodes down has
a time limit (:func:`cleanup_limit`).

Concurrency: one thread per process runs every callback (:func:`spin_node`, and
``fer_ros.pipeline`` for the four nodes in one process), so a callback never overlaps
another one of the same node. A node busy with a frame leaves the next ones in its input's
KEEP_LAST history (depth 1 for the face_detector: only the newest frame waits); the ones
overwritten there never reach the node and are counted as ``dropped`` from the gaps in the
publisher's sequence numbers (:mod:`fer_ros.message_loss`).
"""

from __future__ import annotations

import faulthandler
import os
import signal
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import rclpy
from rclpy.exceptions import NameValidationException, ParameterException
from rclpy.node import Node

from fer_ros.budget import limit_malloc_retention
from fer_ros.dds import use_large_data_profile
from fer_ros.errors import StartupError

#: exceptions that mean "cannot start, here is why" (exit code 1, no traceback)
STARTUP_ERRORS = (StartupError, ParameterException, NameValidationException)

#: the most that destroying a process's nodes and shutting rclpy down may take. Fast DDS 2.14
#: (Jazzy's wheels) can livelock while it tears a participant down as other participants
#: leave (all nodes of a launch end at once): rmw_fastrtps's destroy_participant spins in
#: DomainParticipant::set_listener holding the GIL (eProsima/Fast-DDS#6513). Seen in CI and
#: here once in ~1,200 node stops: a core at 90 % for 35 minutes, Ctrl-C no longer heard.
#: Below launch's 5 s before SIGTERM; a normal clean-up takes 0.3 s.
CLEANUP_LIMIT_S = 4.0

#: the body of an executable: its command-line arguments -> exit code (None = 0)
App = Callable[[list], "int | None"]


def run(name: str, app: App, argv: list[str] | None = None,
        env_defaults: Mapping[str, str] | None = None) -> int:
    """Run ``app(argv)`` as the executable ``name`` and return its exit code.

    ``argv`` (default ``sys.argv[1:]``) also initialises rclpy, so ``--ros-args`` options
    (remapping, ``-p``, ``--log-level``) apply to every node of the process.
    ``env_defaults`` are set before rclpy starts, where the environment does not set them.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    for key, value in (env_defaults or {}).items():
        os.environ.setdefault(key, value)
    use_large_data_profile()
    limit_malloc_retention()
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    interrupts = InterruptOnce.install()
    try:
        rclpy.init(args=[name, *argv])
        try:
            result = app(argv)
        except Exception as exc:
            # Ctrl-C shut the context down under a starting or spinning node: rclpy's C
            # handler does that at once, so the executor can fail on the invalid context
            # (RCLError) before Python runs our handler
            if interrupts.received or not rclpy.ok():
                return 0
            if isinstance(exc, STARTUP_ERRORS):
                rclpy.logging.get_logger(name).fatal(f"cannot start: {exc}")
                return 1
            raise
        finally:
            interrupts.ending = True
            with cleanup_limit():
                rclpy.try_shutdown()
            interrupts.ignore_from_now()
    except KeyboardInterrupt:   # Ctrl-C at any point (start-up, spinning, clean-up)
        return 0
    return 0 if result is None else int(result)


def serve(node_factory: Callable[[], Node]) -> App:
    """The body of a single-node executable: create the node, spin it, destroy it."""
    def app(argv: list[str]) -> None:
        node = node_factory()
        try:
            spin_node(node)
        finally:
            with cleanup_limit():
                node.destroy_node()
    return app


@contextmanager
def cleanup_limit(limit_s: float = CLEANUP_LIMIT_S) -> Iterator[None]:
    """Run the block (a tear-down) with a time limit: past it, every thread's stack goes to
    stderr and the process exits with code 1 (faulthandler's watchdog, a C thread: it fires
    even while the stuck call holds the GIL). A block that ends in time changes nothing.
    Without a usable stderr (closed, or None) the block runs without a limit."""
    try:
        faulthandler.dump_traceback_later(limit_s, exit=True)
    except (RuntimeError, ValueError, OSError):
        yield
        return
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def spin_node(node: Node) -> None:
    """Spin one node in a SingleThreadedExecutor until shutdown.

    Not the MultiThreadedExecutor: in this rclpy its spinning thread re-submits entities that
    are still waiting for a worker, busy-loops holding the GIL and starves the callbacks
    (measured on the demo: 1.8 instead of 15 results/s). Shallow KEEP_LAST input histories
    keep the one thread from queuing work.
    """
    from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor

    if not node.context.ok():       # Ctrl-C during start-up: an executor on a shut-down
        return                      # context fails half-made (rclpy's __del__ then complains)
    executor = SingleThreadedExecutor(context=node.context)
    executor.add_node(node)
    try:
        executor.spin()
    except ExternalShutdownException:   # the context was shut down: a normal end
        pass
    finally:
        executor.shutdown(timeout_sec=1.0)


class InterruptOnce:
    """Python's SIGINT handler for an executable: only the first SIGINT counts.

    Before ``rclpy.init`` it raises KeyboardInterrupt (start-up stops there); while rclpy
    runs, rclpy's own handler (installed on top of this one, which it then calls) shuts the
    context down and spinning ends normally, so nothing is raised in the middle of a
    callback or a constructor. Later SIGINTs (launch sends one after the terminal's) and any
    once the process is ending are ignored, so they cannot break the clean-up.
    """

    def __init__(self, installed: bool) -> None:
        self.installed = installed
        self.received = False       # a SIGINT came: errors from the shut-down context follow
        self.ending = False

    def __call__(self, signum: int, frame: object) -> None:
        if self.received or self.ending:
            return
        self.received = True
        if not rclpy.ok():
            raise KeyboardInterrupt

    def ignore_from_now(self) -> None:
        """Ignore SIGINT until the process exits: Python's finalization puts back the
        default action of a signal it handled (death by the signal: "exit code -2") unless
        it is ignored."""
        if self.installed:
            signal.signal(signal.SIGINT, signal.SIG_IGN)

    @classmethod
    def install(cls) -> InterruptOnce:
        """Install a handler in place of Python's default one (a SIGINT that the parent
        set to be ignored stays ignored; off the main thread nothing changes)."""
        try:
            if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                handler = cls(installed=True)
                signal.signal(signal.SIGINT, handler)
                return handler
        except ValueError:          # not the main thread: signals are not ours to handle
            pass
        return cls(installed=False)
