"""pipeline: the four fer_ros nodes in one process, on one SingleThreadedExecutor.

One thread runs every callback (as each node executable does for its one node, see
fer_ros.nodes.runner.spin_node): while the face_detector works on a frame the camera's timer
waits, so a camera asked for more than the graph can do publishes slower and says so (its rate
warning); the few frames still lost on the way are counted (``dropped``).

The managed nodes (face_detector, emotion) are created with ``autostart`` off and brought to
active here with explicit lifecycle transitions; a failed transition (e.g. a missing model)
stops the runner with exit code 1 and the reason (naming the model path).

For machines without ``ros2 launch`` (e.g. a PyPI-wheel install). Same parameter file as the
launch files, plus a few shortcuts::

    pipeline                                   # config/fer_ros.yaml, the sample clip, looping
    pipeline --source 0                        # first V4L2 camera
    pipeline --params-file my.yaml --source video.mp4 --no-loop --exit-on-end
    pipeline --detector haar --model models/emotion_cnn.keras --namespace cam1
    pipeline --hri                             # + the ROS4HRI topics under /humans/faces
    pipeline --ros-args -r __ns:=/x            # (extra ROS args apply to every node)

The topics are the same as with separate processes (camera/image_raw is image_raw, ...), so
rqt_image_view / other processes can subscribe while it runs.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import rclpy
from rclpy.parameter import Parameter

from fer_ros import share_path
from fer_ros.errors import StartupError
from fer_ros.face_detection import DETECTOR_NAMES
from fer_ros.launch_files import NODE_ARGUMENTS
from fer_ros.nodes import NODE_CLASSES
from fer_ros.nodes.lifecycle import TransitionFailed
from fer_ros.nodes.runner import cleanup_limit, run

NODE_ORDER = tuple(NODE_CLASSES)   # camera first, annotator last


def default_params_file() -> Path | None:
    """config/fer_ros.yaml of the installed package (or the source tree), if present."""
    try:
        path = share_path("config", "fer_ros.yaml")
    except FileNotFoundError:   # no share directory
        return None
    return path if path.is_file() else None


def _is_lifecycle(cls) -> bool:
    from rclpy.lifecycle import LifecycleNode

    return issubclass(cls, LifecycleNode)


def _node_class(name: str):
    module, cls, _ = NODE_CLASSES[name]
    return getattr(__import__(module, fromlist=[cls]), cls)


class Pipeline:
    """camera -> face_detector -> emotion -> annotator, built in one process.

    ``overrides`` maps a node name to {parameter: value}; they win over the params file.
    ``nodes`` may leave some out (e.g. a test that feeds image_raw itself).
    """

    def __init__(self, params_file: str | Path | None = None,
                 overrides: dict[str, dict[str, Any]] | None = None,
                 namespace: str = "", context=None,
                 nodes: Iterable[str] = NODE_ORDER, extra_args: list[str] | None = None
                 ) -> None:
        self.context = context
        self.nodes: dict[str, Any] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        overrides = overrides or {}
        cli_args: list[str] = []
        if params_file:
            if not Path(params_file).is_file():
                raise StartupError(f"parameter file not found: {params_file}")
            cli_args = ["--ros-args", "--params-file", str(params_file)]
        if extra_args:
            cli_args = cli_args + (["--ros-args"] if not cli_args else []) + list(extra_args)
        try:
            for name in nodes:
                cls = _node_class(name)
                node_overrides = dict(overrides.get(name, {}))
                managed = _is_lifecycle(cls)
                if managed:
                    node_overrides["autostart"] = False   # brought to active below
                params = [Parameter(k, value=v) for k, v in node_overrides.items()]
                self.nodes[name] = cls(
                    name, namespace=namespace, context=context, cli_args=cli_args or None,
                    parameter_overrides=params)
                if managed:
                    self.activate(name)
        except BaseException:
            self.destroy()
            raise

    def activate(self, name: str) -> None:
        """configure + activate the managed node ``name``; TransitionFailed naming the node,
        the transition and the cause when one fails."""
        failure = self.nodes[name].try_bring_up()
        if failure is not None:
            what, cause = failure
            raise TransitionFailed(f"{name}: {what}") from cause

    @property
    def camera(self):
        return self.nodes.get("camera")

    def graph_ready(self, extra_subscribers: dict[str, int] | None = None) -> bool:
        """True when every topic between the nodes has its subscribers connected.

        ``extra_subscribers`` adds outside subscribers to wait for, e.g. {"emotions": 1}.
        Where the publisher is one of ours, its DDS matches count (the graph can list a
        subscriber before the writer has matched it, and a sample published then is lost
        before any sequence number is seen: uncounted), else the ROS graph's subscribers.
        """
        need: dict[str, int] = {}
        for topic, readers in (("image_raw", ("face_detector", "annotator")),
                               ("faces", ("emotion",)), ("emotions", ("annotator",))):
            need[topic] = sum(1 for r in readers if r in self.nodes)
        for topic, n in (extra_subscribers or {}).items():
            need[topic] = need.get(topic, 0) + n
        any_node = next(iter(self.nodes.values()), None)
        if any_node is None:
            return True
        ns = any_node.get_namespace().rstrip("/")
        ours = {pub.topic_name: pub for node in self.nodes.values() for pub in node.publishers}

        def connected(topic: str) -> int:
            pub = ours.get(f"{ns}/{topic}")
            return pub.get_subscription_count() if pub is not None else \
                any_node.count_subscribers(f"{ns}/{topic}")
        return all(connected(topic) >= n for topic, n in need.items() if n)

    def spin(self, exit_on_end: bool = False, drain_s: float = 1.0,
             wait_graph_s: float = 5.0, extra_subscribers: dict[str, int] | None = None,
             extra_nodes=()) -> None:
        """Spin in this thread until shutdown, stop(), or (exit_on_end) the source ended.

        The camera is only spun once the other nodes (and ``extra_subscribers``) are
        connected, at most ``wait_graph_s`` seconds, so the first frames are not lost.
        With ``exit_on_end`` it returns once the camera has finished and no node's counters
        changed for ``drain_s`` seconds.
        """
        from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor

        executor = SingleThreadedExecutor(context=self.context)
        for node in list(extra_nodes) + [n for k, n in self.nodes.items() if k != "camera"]:
            executor.add_node(node)
        camera_added = self.camera is None
        deadline = time.monotonic() + wait_graph_s
        last_stats, quiet_since = None, None
        try:
            while not self._stop.is_set() and rclpy.ok(context=self.context):
                if not camera_added and (self.graph_ready(extra_subscribers)
                                         or time.monotonic() > deadline):
                    executor.add_node(self.camera)
                    camera_added = True
                executor.spin_once(timeout_sec=0.05)
                if exit_on_end and camera_added and self.camera is not None \
                        and self.camera.finished.is_set():
                    stats = self.stats()
                    now = time.monotonic()
                    if stats != last_stats:
                        last_stats, quiet_since = stats, now
                    elif now - quiet_since >= drain_s:
                        break
        except ExternalShutdownException:   # the context was shut down: a normal end
            pass
        finally:
            executor.shutdown(timeout_sec=2.0)

    def start(self, **spin_kwargs: Any) -> None:
        """spin() in a background thread (for tests); stop() ends it."""
        self._thread = threading.Thread(target=self.spin, kwargs=spin_kwargs, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None

    def stats(self) -> dict[str, dict[str, Any]]:
        return {name: node.stats() for name, node in self.nodes.items()}

    def destroy(self) -> None:
        self.stop()
        with cleanup_limit():
            for node in self.nodes.values():
                node.destroy_node()
        self.nodes = {}


def build_arg_parser(prog: str = "pipeline") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog, description="Run camera, face_detector, emotion and annotator in one "
        "process. Arguments after --ros-args go to ROS (e.g. -p, -r, --log-level).")
    p.add_argument("--params-file", default=None,
                   help="ROS 2 parameter YAML (default: the package's config/fer_ros.yaml; "
                        "'' for none)")
    p.add_argument("--source", help="camera source: sample, a device (0, /dev/video0), a video "
                                    "or image file, or a folder of images")
    p.add_argument("--model", help="emotion model path (.tflite/.keras, card beside it)")
    p.add_argument("--detector", choices=DETECTOR_NAMES, help="face detector")
    p.add_argument("--namespace", default="", help="namespace of all nodes and topics")
    loop = p.add_mutually_exclusive_group()
    loop.add_argument("--loop", dest="loop", action="store_true", default=None,
                      help="repeat a finite source")
    loop.add_argument("--no-loop", dest="loop", action="store_false",
                      help="stop publishing when a finite source ends")
    p.add_argument("--fps", type=float, help="camera publish rate (0 = the source's)")
    p.add_argument("--exit-on-end", action="store_true",
                   help="exit when the source has ended (needs --no-loop or max_frames)")
    p.add_argument("--hri", action="store_true", default=None,
                   help="also publish the ROS4HRI (REP-155) topics under /humans/faces "
                        "(emotion hri and face_detector box_crops on; needs hri_msgs)")
    p.add_argument("--wait-for", action="append", default=[], metavar="TOPIC=N",
                   type=_topic_count, help="start the camera once TOPIC (in the namespace) "
                   "also has N outside subscribers, at most 5 s (repeatable; e.g. a "
                   "measuring node that must see every frame)")
    return p


def _topic_count(text: str) -> tuple[str, int]:
    topic, _, n = text.partition("=")
    if not topic or not n.isdigit():
        raise argparse.ArgumentTypeError(f"expected TOPIC=N, got {text!r}")
    return topic, int(n)


def overrides_from_args(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {name: {} for name in NODE_ORDER}
    if args.loop is not None:
        out["camera"]["loop"] = bool(args.loop)
    if args.fps is not None:
        out["camera"]["fps"] = float(args.fps)
    # --source, --model, --detector, --hri set what the launch arguments of the same names
    # set (fer_ros.launch_files: e.g. hri also turns on the face_detector's box_crops)
    for executable, arguments in NODE_ARGUMENTS.items():
        for argument, (parameter, _) in arguments.items():
            value = getattr(args, argument, None)
            if value is not None:
                out[executable][parameter] = value
    return out


def split_ros_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """Split ``argv`` into (our options, ROS arguments after --ros-args)."""
    if "--ros-args" in argv:
        i = argv.index("--ros-args")
        ros = [a for a in argv[i + 1:] if a != "--"]
        return argv[:i], ros
    return argv, []


def run_pipeline(argv: list[str]) -> None:
    """The body of the ``pipeline`` executable (see the module docstring)."""
    ours, ros_args = split_ros_args(argv)
    args = build_arg_parser().parse_args(ours)
    params_file = default_params_file() if args.params_file is None else (args.params_file
                                                                         or None)
    pipeline = Pipeline(params_file, overrides_from_args(args), args.namespace,
                        extra_args=ros_args)
    try:
        pipeline.spin(exit_on_end=args.exit_on_end, extra_subscribers=dict(args.wait_for))
    finally:
        pipeline.destroy()


def main(argv: list[str] | None = None) -> int:
    return run("pipeline", run_pipeline, argv)


if __name__ == "__main__":
    raise SystemExit(main())
