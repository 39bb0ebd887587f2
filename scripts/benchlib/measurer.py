"""The measuring node: per-frame receive times of the graph's outputs, in the bench process.

It subscribes to camera_info, faces, emotions and image_annotated and records, per frame
(matched by header stamp), the DDS receive time of each message
(``MessageInfo.received_timestamp``: the same system clock as the camera's capture stamp on
the same machine, so a busy Python executor here does not inflate the figures).  It also
keeps the run's nodes' /diagnostics statuses (:class:`benchlib.frame_account.Status`) and
can stop the camera (its ``max_frames`` parameter) so the graph drains before the frame
account is read.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from benchlib.frame_account import ACCOUNT_NODES, Status
from benchlib.metrics import LatencyRecorder, StageTimes

STATUSES_KEPT = 3600          # per node: an hour of statuses at the default 1 s period
ANNOTATED_TOPICS = {"raw": "image_annotated", "compressed": "image_annotated/compressed",
                    "none": None}


def measured_topics(annotated: str) -> list[str]:
    """The graph topics the measuring node subscribes to (relative to the namespace)."""
    topics = ["camera_info", "faces", "emotions"]
    return topics + [ANNOTATED_TOPICS[annotated]] if ANNOTATED_TOPICS[annotated] else topics


class Measurer:
    """An rclpy node (own context, own executor thread) recording per-frame receive times."""

    def __init__(self, namespace: str, annotated: str = "raw") -> None:
        import rclpy
        from diagnostic_msgs.msg import DiagnosticArray
        from fer_ros.msg import EmotionArray, FaceDetectionArray
        from rcl_interfaces.srv import SetParameters
        from rclpy.context import Context
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.node import Node
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        from sensor_msgs.msg import CameraInfo, CompressedImage, Image

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
        if annotated != "none":
            sub(Image if annotated == "raw" else CompressedImage, ANNOTATED_TOPICS[annotated],
                self._cb("annotated"), qos)
        self.annotated = annotated
        prefix = f"fer_ros: {self.ns.lstrip('/')}/"
        self._status_names = {prefix + name: name for name in ACCOUNT_NODES}
        self._status_lock = threading.Lock()
        self._statuses: dict[str, deque[Status]] = {name: deque(maxlen=STATUSES_KEPT)
                                                   for name in ACCOUNT_NODES}
        sub(DiagnosticArray, "/diagnostics", self._on_diagnostics,
            QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE))
        self._camera_params = self.node.create_client(SetParameters,
                                                      f"{self.ns}/camera/set_parameters")
        self._executor = SingleThreadedExecutor(context=self.ctx)
        self._executor.add_node(self.node)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, name="Measurer", daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        while not self._stop.is_set():
            try:
                self._executor.spin_once(timeout_sec=0.1)
            except Exception:
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

    def _on_diagnostics(self, msg) -> None:
        stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        for s in msg.status:
            name = self._status_names.get(s.name)
            if name is None:
                continue
            level = s.level[0] if isinstance(s.level, (bytes, bytearray)) else int(s.level)
            status = Status(stamp, level, s.message, {kv.key: kv.value for kv in s.values})
            with self._status_lock:
                self._statuses[name].append(status)

    def node_statuses(self, name: str) -> list[Status]:
        with self._status_lock:
            return list(self._statuses[name])

    def stop_camera(self, timeout_s: float = 5.0) -> str | None:
        """Make the camera stop publishing (``max_frames`` = the frames it reported so far,
        so it finishes after its next frame); None on success, else why not."""
        from rcl_interfaces.srv import SetParameters
        from rclpy.parameter import Parameter

        last = self.node_statuses("camera")
        published = int(last[-1].values.get("total_published", "0")) if last else 0
        if not self._camera_params.wait_for_service(timeout_sec=timeout_s):
            return f"{self._camera_params.srv_name} is not available"
        request = SetParameters.Request(
            parameters=[Parameter("max_frames", value=max(1, published)).to_parameter_msg()])
        future = self._camera_params.call_async(request)
        deadline = time.monotonic() + timeout_s
        while not future.done() and time.monotonic() < deadline:
            time.sleep(0.02)
        if not future.done():
            return f"{self._camera_params.srv_name} did not answer in {timeout_s:g} s"
        [result] = future.result().results
        return None if result.successful else f"max_frames refused: {result.reason}"

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
