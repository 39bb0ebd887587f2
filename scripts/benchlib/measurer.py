"""The measuring node: per-frame receive times of the graph's outputs, in the bench process.

It subscribes to camera_info, faces, emotions and image_annotated and records, per frame
(matched by header stamp), the DDS receive time of each message
(``MessageInfo.received_timestamp``: the same system clock as the camera's capture stamp on
the same machine, so a busy Python executor here does not inflate the figures).
"""

from __future__ import annotations

import threading
import time

from benchlib.metrics import LatencyRecorder, StageTimes


class Measurer:
    """An rclpy node (own context, own executor thread) recording per-frame receive times."""

    def __init__(self, namespace: str, annotated: str = "raw") -> None:
        import rclpy
        from rclpy.context import Context
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.node import Node
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        from sensor_msgs.msg import CameraInfo, CompressedImage, Image

        from fer_ros.msg import EmotionArray, FaceDetectionArray

        self.ns = namespace.rstrip("/")
        self.ctx = Context()
        rclpy.init(context=self.ctx)
        self.node = Node("fer_bench", namespace=namespace, context=self.ctx)
        self.stages = StageTimes()
        self.faces_per_frame: dict[int, int] = {}
        self.callback_delay = LatencyRecorder()   # DDS receive -> Python callback
        self.first_result = threading.Event()
        qos = QoSProfile(depth=20, reliability=ReliabilityPolicy.RELIABLE)
        sub = self.node.create_subscription
        sub(CameraInfo, "camera_info", self._cb("camera"), qos)
        sub(FaceDetectionArray, "faces", self._cb("faces"), qos)
        sub(EmotionArray, "emotions", self._on_emotions, qos)
        if annotated == "raw":
            sub(Image, "image_annotated", self._cb("annotated"), qos)
        elif annotated == "compressed":
            sub(CompressedImage, "image_annotated/compressed", self._cb("annotated"), qos)
        self.annotated = annotated
        self._executor = SingleThreadedExecutor(context=self.ctx)
        self._executor.add_node(self.node)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, name="Measurer", daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        while not self._stop.is_set():
            try:
                self._executor.spin_once(timeout_sec=0.1)
            except Exception:  # noqa: BLE001 - context shut down while stopping
                if self._stop.is_set():
                    return
                raise

    @staticmethod
    def _times(msg, info) -> tuple[int, int, int]:
        now = time.time_ns()
        stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        recv = int(info.get("received_timestamp") or 0) or now
        return stamp, recv, now

    def _cb(self, topic: str):
        def callback(msg, info) -> None:
            stamp, recv, _ = self._times(msg, info)
            self.stages.record(topic, stamp, recv)
        return callback

    def _on_emotions(self, msg, info) -> None:
        stamp, recv, now = self._times(msg, info)
        self.stages.record("emotions", stamp, recv)
        self.faces_per_frame.setdefault(stamp, len(msg.faces))
        self.callback_delay.add(now / 1e9, (now - recv) / 1e9)
        self.first_result.set()

    def counts(self, topic: str) -> tuple[int, int]:
        full = f"{self.ns}/{topic}"
        return self.node.count_publishers(full), self.node.count_subscribers(full)

    def close(self) -> None:
        import rclpy

        self._stop.set()
        self._thread.join(timeout=5.0)
        self._executor.shutdown(timeout_sec=1.0)
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.ctx)
