"""demo: the whole pipeline on the built-in sample clip, printed and saved.

    demo                                  # sample clip, real time, once
    demo --fps 60                         # faster than the graph: the camera says it falls behind
    demo --source video.mp4 --output out.avi --detector haar

Runs camera -> face_detector -> emotion -> annotator in one process (see fer_ros.pipeline),
subscribes to their outputs like any other ROS node would, prints one line per frame::

    1795.123456789  faces: #1 happy 0.82, #2 neutral 0.55

writes the annotated frames to a video file (default demo_output/annotated.avi, MJPG), exits
when the clip has ended and everything has drained, and prints a summary: the camera's rate
against the requested one, frames published / answered / dropped (= published - answered,
and where each was lost: the nodes' counters, the same as on /diagnostics), frames/s and the
latency from capture to result.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from fer_ros.diagnostics import RateKeeping, percentile
from fer_ros.face_detection import DETECTOR_NAMES
from fer_ros.message_loss import account_frames
from fer_ros.nodes.runner import cleanup_limit, run


def build_arg_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="demo", description=__doc__.split("\n\n")[0])
    p.add_argument("--source", default="sample", help="camera source (default: the "
                   "built-in sample clip)")
    p.add_argument("--output", default="demo_output/annotated.avi",
                   help="annotated video file ('' = do not write one)")
    p.add_argument("--params-file", default=None,
                   help="parameter YAML (default: the package's config/fer_ros.yaml)")
    p.add_argument("--model", help="emotion model path (.tflite/.keras)")
    p.add_argument("--detector", choices=DETECTOR_NAMES)
    p.add_argument("--fps", type=float, default=None,
                   help="camera rate (default: the clip's own; higher = stress test)")
    p.add_argument("--max-frames", type=int, default=0, help="stop after N frames")
    p.add_argument("--quiet", action="store_true", help="no per-frame lines")
    return p


class DemoListener:
    """A plain rclpy node that consumes the pipeline's outputs (as any user code would)."""

    def __init__(self, context, namespace: str, output: str, quiet: bool, out=sys.stdout):
        from rclpy.node import Node
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        from sensor_msgs.msg import Image

        from fer_ros.msg import EmotionArray

        self.node = Node("demo_listener", namespace=namespace, context=context)
        qos = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
        self.node.create_subscription(EmotionArray, "emotions", self.on_emotions, qos)
        self.node.create_subscription(Image, "image_annotated", self.on_annotated, qos)
        self.output = Path(output) if output else None
        self.quiet = quiet
        self.out = out
        self.writer = None
        self.emotion_latency: list[float] = []
        self.image_latency: list[float] = []
        self.frames_with_faces = 0
        self.faces = 0
        self.labels: dict[str, int] = {}
        self.written = 0
        self.first_result = None
        self.last_result = None

    def _latency(self, header) -> float:
        now = self.node.get_clock().now().nanoseconds
        return (now - (header.stamp.sec * 10**9 + header.stamp.nanosec)) / 1e9

    def on_emotions(self, msg) -> None:
        lat = self._latency(msg.header)
        now = time.monotonic()
        self.emotion_latency.append(lat)
        self.first_result = self.first_result or now
        self.last_result = now
        if msg.faces:
            self.frames_with_faces += 1
        self.faces += len(msg.faces)
        for f in msg.faces:
            self.labels[f.label] = self.labels.get(f.label, 0) + 1
        if not self.quiet:
            faces = ", ".join(f"#{f.face_id} {f.label} {f.confidence:.2f}" for f in msg.faces)
            print(f"{msg.header.stamp.sec}.{msg.header.stamp.nanosec:09d}  faces: "
                  f"{faces or '-'}", file=self.out, flush=True)

    def on_annotated(self, msg) -> None:
        import cv2

        from fer_ros.ros_image import image_msg_to_bgr

        lat = self._latency(msg.header)
        self.image_latency.append(lat)
        if self.output is None:
            return
        bgr = image_msg_to_bgr(msg)
        if self.writer is None:
            self.output.parent.mkdir(parents=True, exist_ok=True)
            self.writer = cv2.VideoWriter(str(self.output), cv2.VideoWriter_fourcc(*"MJPG"),
                                          self.video_fps, (bgr.shape[1], bgr.shape[0]))
            if not self.writer.isOpened():
                print(f"demo: cannot write {self.output}; not saving video",
                      file=sys.stderr)
                self.output = None
                return
        self.writer.write(np.ascontiguousarray(bgr))
        self.written += 1

    video_fps = 15.0

    def close(self) -> None:
        if self.writer is not None:
            self.writer.release()
            self.writer = None
        with cleanup_limit():
            self.node.destroy_node()


def camera_line(published: int, rate: RateKeeping) -> str:
    """How many frames the camera published, at what rate, and whether it kept the rate."""
    achieved = rate.overall_hz()
    if achieved is None:
        return f"{published} frames published"
    verdict = (f"below the requested {rate.requested_hz:g}" if rate.is_below(achieved)
               else f"requested {rate.requested_hz:g}")
    return (f"{published} frames published in {rate.last - rate.first:.1f} s: "
            f"{achieved:.1f} frames/s, {verdict}")


def frames_lines(stats: dict[str, dict[str, Any]], answered: int) -> list[str]:
    """published, answered, dropped = published - answered, and where they were lost."""
    account = account_frames(stats.get("camera", {}).get("published", 0), answered, stats)
    where = "; ".join(f"{name} " + ", ".join(f"{n} {key}" for key, n in counts.items())
                      for name, counts in account.by_node.items())
    if not account.measured:
        check = "lost before a node: unknown (no sequence numbers from this rclpy)"
    elif account.accounted == account.dropped:
        check = "all accounted for"
    else:
        check = f"the nodes account for {account.accounted}"
    return [f"  frames:     {account.published} published, {account.answered} answered, "
            f"{account.dropped} dropped (published - answered)",
            f"  dropped at: {where} ({check})"]


def summary(stats: dict[str, dict[str, Any]], listener: DemoListener, wall_s: float,
            camera_reason: str, camera_rate: RateKeeping) -> str:
    cam = stats.get("camera", {})
    det = stats.get("face_detector", {})
    emo = stats.get("emotion", {})
    ann = stats.get("annotator", {})
    n_res = len(listener.emotion_latency)
    span = ((listener.last_result - listener.first_result)
            if listener.first_result and listener.last_result else 0.0)
    fps = (n_res - 1) / span if n_res > 1 and span > 0 else float("nan")
    lines = [
        "",
        "demo summary",
        f"  source:     {camera_reason or 'stopped'}",
        f"  camera:     {camera_line(cam.get('published', 0), camera_rate)}",
        *frames_lines(stats, n_res),
        f"  detector:   {det.get('processed', 0)} processed, {det.get('faces', 0)} faces",
        f"  emotion:    {emo.get('processed', 0)} processed",
        f"  annotator:  {ann.get('published', 0)} annotated frames"
        + (f", {listener.written} written to {listener.output}" if listener.output else ""),
        f"  results:    {n_res} frames ({listener.frames_with_faces} with faces, "
        f"{listener.faces} faces; labels: "
        + (", ".join(f"{k} {v}" for k, v in sorted(listener.labels.items(),
                                                   key=lambda kv: -kv[1])) or "-") + ")",
        f"  throughput: {fps:.1f} results/s over {span:.1f} s ({wall_s:.1f} s wall in total)",
        "  latency capture -> emotions:        "
        f"mean {1e3 * np.mean(listener.emotion_latency or [np.nan]):.0f} ms, "
        f"p50 {1e3 * percentile(listener.emotion_latency, 50):.0f}, "
        f"p95 {1e3 * percentile(listener.emotion_latency, 95):.0f}, "
        f"max {1e3 * max(listener.emotion_latency or [np.nan]):.0f}",
        "  latency capture -> annotated image: "
        f"mean {1e3 * np.mean(listener.image_latency or [np.nan]):.0f} ms, "
        f"p50 {1e3 * percentile(listener.image_latency, 50):.0f}, "
        f"p95 {1e3 * percentile(listener.image_latency, 95):.0f}, "
        f"max {1e3 * max(listener.image_latency or [np.nan]):.0f}",
    ]
    return "\n".join(lines)


def run_demo(argv: list[str]) -> int:
    """The body of the ``demo`` executable: 0 when results arrived, else 1."""
    from fer_ros.pipeline import Pipeline, default_params_file, split_ros_args

    ours, ros_args = split_ros_args(argv)
    args = build_arg_parser().parse_args(ours)
    params_file = default_params_file() if args.params_file is None else (args.params_file
                                                                         or None)
    overrides: dict[str, dict[str, Any]] = {
        "camera": {"source": args.source, "loop": False, "max_frames": args.max_frames},
        "face_detector": {}, "emotion": {}, "annotator": {}}
    if args.fps is not None:
        overrides["camera"]["fps"] = float(args.fps)
    if args.model:
        overrides["emotion"]["model_path"] = args.model
    if args.detector:
        overrides["face_detector"]["detector"] = args.detector

    pipeline = Pipeline(params_file, overrides, extra_args=ros_args)
    listener = None
    try:
        cam = pipeline.camera
        listener = DemoListener(None, cam.get_namespace(), args.output, args.quiet)
        listener.video_fps = cam.publish_rate()  # the video plays at the publishing rate
        t0 = time.monotonic()
        pipeline.spin(exit_on_end=True, drain_s=1.0,
                      extra_subscribers={"emotions": 1, "image_annotated": 1},
                      extra_nodes=[listener.node])
        wall = time.monotonic() - t0
        print(summary(pipeline.stats(), listener, wall, cam.end_reason, cam.rate_keeping),
              flush=True)
        return 0 if listener.emotion_latency else 1
    finally:
        if listener is not None:
            listener.close()
        pipeline.destroy()


def main(argv: list[str] | None = None) -> int:
    # A demo stays on this machine unless the user configured discovery otherwise.
    return run("demo", run_demo, argv, env_defaults={"ROS_AUTOMATIC_DISCOVERY_RANGE":
                                                      "LOCALHOST"})


if __name__ == "__main__":
    raise SystemExit(main())
