"""camera node: publishes frames of a source as sensor_msgs/Image (bgr8) + CameraInfo.

Topics (relative, so a namespace or remapping applies):
  image_raw     sensor_msgs/Image (bgr8), stamped at capture
  camera_info   sensor_msgs/CameraInfo with the same header (if publish_camera_info)
  image_raw/compressed  sensor_msgs/CompressedImage, JPEG (if publish_compressed; encoded
                only while it has subscribers; image_transport's "compressed" naming)

Sources: see :mod:`fer_ros.sources` (``sample`` = the built-in clip, a V4L2 device, a
video / image file, a folder of images or a recorded rosbag2 bag). When a finite source
ends the node rewinds it (``loop: true``) or logs that it ended and stops publishing; a
camera device that stops delivering is reopened every ``reopen_delay_s`` seconds.

When the node cannot keep the requested rate (a slow source, or a busy executor thread
that fires the timer late), it says so: a throttled warning and a WARN diagnostics status
with the achieved rate (rule: :class:`fer_ros.diagnostics.RateKeeping`, over
``rate_window_s`` with ``rate_tolerance``).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
from sensor_msgs.msg import CameraInfo, CompressedImage, Image

from fer_ros.budget import max_image_pixels_spec
from fer_ros.camera_info import load_camera_info
from fer_ros.diagnostics import WARN, RateKeeping, check_thresholds, diagnostics_specs
from fer_ros.nodes.base import FerNode, init_or_destroy
from fer_ros.nodes.runner import run, serve
from fer_ros.parameters import (
    RELIABILITY_CHOICES,
    ParamSpec,
    check_values,
    logging_specs,
    make_qos,
)
from fer_ros.ros_image import bgr_to_compressed_msg, bgr_to_image_msg
from fer_ros.sources import FrameSource, SourceError, open_source

#: topics (relative names) -> message type
PUBLISHES = {"image_raw": "sensor_msgs/msg/Image", "camera_info": "sensor_msgs/msg/CameraInfo",
             "image_raw/compressed": "sensor_msgs/msg/CompressedImage"}
SUBSCRIBES: dict[str, str] = {}

PARAMS = (
    ParamSpec("source", "sample",
              "What to publish: 'sample' (the built-in clip), a V4L2 device index or path "
              "('0', '/dev/video0'), a video file, an image file, a folder of images, or a "
              "recorded rosbag2 bag (its folder, a .db3 or a .mcap file).",
              read_only=True),
    ParamSpec("bag_topic", "", "Bag sources: the image topic to play (sensor_msgs Image or "
              "CompressedImage); '' = the first image topic of the bag.", read_only=True),
    ParamSpec("width", 0, "Output width in pixels; 0 keeps the source's (or follows the "
              "aspect ratio when only height is set). Requested from devices.",
              read_only=True, min=0, max=8192),
    ParamSpec("height", 0, "Output height in pixels; 0 keeps the source's (or follows the "
              "aspect ratio when only width is set). Requested from devices.",
              read_only=True, min=0, max=8192),
    ParamSpec("fps", 0.0, "Publish rate in frames/s; 0 = the source's own rate (30 when it "
              "has none, e.g. images).", min=0.0, max=1000.0),
    ParamSpec("rate_tolerance", 0.1, "Warn (log, throttled, and a WARN diagnostics status) "
              "when the rate achieved over rate_window_s is below the requested one by more "
              "than this fraction.", read_only=True, min=0.0, max=0.99),
    ParamSpec("rate_window_s", 2.0, "Window over which the achieved publish rate is "
              "measured (at least 20 requested periods).", read_only=True,
              min=0.1, max=3600.0),
    ParamSpec("frame_id", "camera", "frame_id of the published headers."),
    ParamSpec("camera_name", "camera", "Camera name (a calibration file for another "
              "camera_name is reported).", read_only=True),
    ParamSpec("loop", True, "Restart a finite source (file, folder, sample clip) when it "
              "ends; when false the node logs the end and stops publishing."),
    ParamSpec("max_frames", 0, "Stop after publishing this many frames (0 = no limit).",
              min=0, max=2**31 - 1),
    ParamSpec("reliability", "reliable",
              "QoS reliability of image_raw / camera_info. 'reliable' serves both reliable "
              "and best-effort subscribers.", read_only=True, choices=RELIABILITY_CHOICES),
    ParamSpec("qos_depth", 2, "History depth (KEEP_LAST) of the publishers.",
              read_only=True, min=1, max=100),
    ParamSpec("publish_camera_info", True, "Also publish camera_info with each frame.",
              read_only=True),
    ParamSpec("publish_compressed", False, "Also publish image_raw/compressed (JPEG "
              "sensor_msgs/CompressedImage, encoded only while it has subscribers).",
              read_only=True),
    ParamSpec("jpeg_quality", 80, "JPEG quality of image_raw/compressed.", min=1, max=100),
    ParamSpec("camera_info_url", "", "Calibration YAML (camera_calibration format, "
              "'file:///path' or a plain path); empty = uncalibrated (all-zero K).",
              read_only=True),
    ParamSpec("reopen_delay_s", 1.0, "Seconds between attempts to reopen a camera device "
              "that stopped delivering frames.", min=0.05, max=3600.0),
    ParamSpec("wait_for_subscribers", 0, "Hold the first frame until image_raw has this many "
              "subscribers (so nothing is lost at start-up); 0 = start at once.",
              read_only=True, min=0, max=100),
    ParamSpec("wait_timeout_s", 10.0, "Give up waiting for subscribers after this many "
              "seconds and start anyway.", read_only=True, min=0.0, max=3600.0),
    *logging_specs(),
    max_image_pixels_spec("source frames (larger ones are skipped, an image file that "
                          "large fails to open)"),
) + diagnostics_specs(warn_ms=50.0, error_ms=200.0)


def check_params(values: dict[str, Any]) -> list[str]:
    """Pure validation of the camera parameters (complete or partial set)."""
    problems = check_values(PARAMS, values) + check_thresholds(values)
    frame_id = values.get("frame_id")
    if isinstance(frame_id, str) and frame_id != frame_id.strip():
        problems.append("frame_id: must not have leading/trailing spaces")
    return problems


class CameraNode(FerNode):
    PARAMS = PARAMS
    # diagnostics: input = frames read from the source and published
    DIAG_INPUT = "published"
    DIAG_OUTPUT = "published"

    def __init__(self, node_name: str = "camera", **kwargs: Any) -> None:
        super().__init__(node_name, **kwargs)
        #: set when the source has ended (loop off, max_frames reached) or failed for good
        self.finished = threading.Event()
        self.end_reason = ""
        self._source: FrameSource | None = None
        self._timer = None
        init_or_destroy(self, self._setup)

    # -- setup ---------------------------------------------------------------------------
    def _setup(self) -> None:
        values = self._declare_params(check_params, self._on_params_changed)
        self._spec = values["source"]
        self._calibration = (load_camera_info(values["camera_info_url"])
                             if values["camera_info_url"] else None)
        cal_name = self._calibration["camera_name"] if self._calibration else ""
        if cal_name and cal_name != values["camera_name"]:
            self.get_logger().warning(f"calibration file is for camera '{cal_name}', this is "
                                      f"'{values['camera_name']}'")
        self._calibration_size_warned = False
        self._source = self._open_source()
        qos = make_qos(values["reliability"], values["qos_depth"])
        self._image_pub = self.create_publisher(Image, "image_raw", qos)
        self._info_pub = (self.create_publisher(CameraInfo, "camera_info",
                                                make_qos(values["reliability"],
                                                         values["qos_depth"]))
                          if values["publish_camera_info"] else None)
        self._jpeg_pub = (self.create_publisher(
            CompressedImage, self.resolve_topic_name("image_raw") + "/compressed",
            make_qos(values["reliability"], values["qos_depth"]))
            if values["publish_compressed"] else None)
        self._published = 0
        self._pass_frames = 0          # frames read since the last (re)open
        self._skipped_seen = 0         # len(source.skipped) already counted
        self._reopen_at = 0.0
        self._wait_started = time.monotonic()
        self._waiting = values["wait_for_subscribers"] > 0
        self.rate_keeping = RateKeeping(self.publish_rate(), time.monotonic(),
                                        values["rate_window_s"], values["rate_tolerance"])
        self._start_timer()
        self.get_logger().info(
            f"publishing {self._source.description} on {self._image_pub.topic_name} at "
            f"{self.publish_rate():.1f} fps (loop={values['loop']}, "
            f"{values['reliability']})")

    def publish_rate(self) -> float:
        fps = float(self.param("fps"))
        if fps > 0:
            return fps
        native = self._source.native_fps if self._source is not None else None
        return float(native) if native else 30.0

    def _start_timer(self) -> None:
        if self._timer is not None:
            self.destroy_timer(self._timer)
        self._timer = self.create_timer(1.0 / self.publish_rate(), self._tick)
        self.rate_keeping.restart(self.publish_rate(), time.monotonic())

    def _on_params_changed(self, changed: dict[str, Any]) -> None:
        if "fps" in changed and not self.finished.is_set():
            self._start_timer()

    # -- publishing ----------------------------------------------------------------------
    def _tick(self) -> None:
        try:
            self._tick_once()
        except Exception:
            if not self.context.ok():
                return  # Ctrl-C / shutdown while publishing: handles are being destroyed
            raise

    def _tick_once(self) -> None:
        if self.finished.is_set():
            return
        if self._waiting:
            needed = int(self.param("wait_for_subscribers"))
            have = self._image_pub.get_subscription_count()
            waited = time.monotonic() - self._wait_started
            if have < needed and waited < float(self.param("wait_timeout_s")):
                return
            if have < needed:
                self.get_logger().warning(f"only {have} of {needed} subscribers after "
                                          f"{waited:.1f} s; starting anyway")
            self._waiting = False
            self.rate_keeping.restart(self.publish_rate(), time.monotonic())
        if self._source is None and not self._try_reopen_device():
            return
        t0 = time.perf_counter()
        frame = self._source.read()
        stamp = self.get_clock().now()   # stamped at capture
        self._report_skipped()
        if frame is None:
            frame = self._handle_end()
            if frame is None:
                return
            stamp = self.get_clock().now()
        self._pass_frames += 1
        self._publish(frame, stamp)
        self.processing_times.add(time.perf_counter() - t0)
        max_frames = int(self.param("max_frames"))
        if max_frames and self._published >= max_frames:
            self._finish(f"published max_frames={max_frames} frames")

    def _report_skipped(self) -> None:
        """Folder and bag sources skip undecodable frames: count them, warn (throttled)."""
        skipped = getattr(self._source, "skipped", None)
        if not skipped or len(skipped) <= self._skipped_seen:
            return
        self.count("source_skipped", len(skipped) - self._skipped_seen)
        self._skipped_seen = len(skipped)
        self.get_logger().warning(f"{self._source.description}: skipped a frame "
                                  f"({skipped[-1]}); {len(skipped)} so far",
                                  throttle_duration_sec=max(self.log_throttle_s, 0.001))

    def _publish(self, frame: np.ndarray, stamp) -> None:
        msg = bgr_to_image_msg(frame)
        msg.header.stamp = stamp.to_msg()
        msg.header.frame_id = str(self.param("frame_id"))
        self._image_pub.publish(msg)
        if self._jpeg_pub is not None and self._jpeg_pub.get_subscription_count() > 0:
            self._jpeg_pub.publish(bgr_to_compressed_msg(
                frame, msg.header, quality=int(self.param("jpeg_quality"))))
        if self._info_pub is not None:
            self._info_pub.publish(self._camera_info(msg))
        self._published += 1
        self.count("published")
        now = time.monotonic()
        self.rate_keeping.published(now)
        problem = self.rate_keeping.problem(now)
        if problem:
            self.get_logger().warning(problem,
                                      throttle_duration_sec=max(self.log_throttle_s, 0.001))

    def _camera_info(self, image: Image) -> CameraInfo:
        info = CameraInfo()
        info.header = image.header
        info.width, info.height = image.width, image.height
        cal = self._calibration
        if cal and (cal["width"], cal["height"]) == (image.width, image.height):
            info.distortion_model = cal["distortion_model"]
            info.d = cal["d"]
            info.k = cal["k"]
            info.r = cal["r"]
            info.p = cal["p"]
        else:
            if cal and not self._calibration_size_warned:
                self._calibration_size_warned = True
                self.get_logger().warning(
                    f"calibration is for {cal['width']}x{cal['height']} but frames are "
                    f"{image.width}x{image.height}: publishing an uncalibrated camera_info")
            info.distortion_model = "plumb_bob"
            info.d = [0.0] * 5
            info.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
        return info

    # -- end of stream / failures ----------------------------------------------------------
    def _handle_end(self) -> np.ndarray | None:
        """The source returned no frame: loop, reopen a device, or finish. Returns a frame
        to publish now (after a rewind), or None."""
        src = self._source
        assert src is not None
        if src.live:
            self.count("device_failures")
            self.get_logger().warning(
                f"{src.description} stopped delivering frames after {self._published} "
                f"published; reopening every {self.param('reopen_delay_s')} s")
            src.close()
            self._source = None
            self._reopen_at = time.monotonic() + float(self.param("reopen_delay_s"))
            return None
        if self._pass_frames == 0:
            self._finish(f"{src.description} produced no frames (unreadable or empty)",
                         error=True)
            return None
        if bool(self.param("loop")) and src.loopable:
            try:
                src.reopen()
            except SourceError as exc:
                self._finish(f"cannot restart {src.description}: {exc}", error=True)
                return None
            self.count("loops")
            self._pass_frames = 0
            frame = src.read()
            if frame is None:
                self._finish(f"{src.description} produced no frames after a restart",
                             error=True)
            return frame
        self._finish(f"{src.description} ended after {self._published} frames; "
                     "no more frames will be published (set loop:=true to repeat it)")
        return None

    def _open_source(self) -> FrameSource:
        """Open ``source`` with the current width/height/fps/bag_topic parameters."""
        return open_source(self._spec, int(self.param("width")), int(self.param("height")),
                           float(self.param("fps")), self.param("bag_topic"),
                           int(self.param("max_image_pixels")))

    def _try_reopen_device(self) -> bool:
        if time.monotonic() < self._reopen_at:
            return False
        try:
            self._source = self._open_source()
        except SourceError as exc:
            self.get_logger().warning(f"reopen failed: {exc}",
                                      throttle_duration_sec=max(self.log_throttle_s, 0.001))
            self._reopen_at = time.monotonic() + float(self.param("reopen_delay_s"))
            return False
        self.count("reopened")
        self._pass_frames = 0
        self.rate_keeping.restart(self.publish_rate(), time.monotonic())
        self.get_logger().info(f"reopened {self._source.description}")
        return True

    def _finish(self, reason: str, error: bool = False) -> None:
        self.end_reason = reason
        (self.get_logger().error if error else self.get_logger().info)(reason)
        if self._timer is not None:
            self._timer.cancel()
        if self._source is not None:
            self._source.close()
        self.finished.set()

    # -- introspection ---------------------------------------------------------------------
    def diagnostics_hardware_id(self) -> str:
        return self._source.description if self._source is not None else str(self._spec)

    def diagnostics_values(self) -> list[tuple[str, Any]]:
        publishing = self.diagnostics_expects_input()[0]   # not finished, not waiting
        achieved = self.rate_keeping.achieved_hz(time.monotonic()) if publishing else None
        return [("source", self.diagnostics_hardware_id()),
                ("requested_rate_hz", self.publish_rate()),
                ("achieved_rate_hz", float("nan") if achieved is None else achieved)]

    def diagnostics_problems(self) -> list[tuple[int, str]]:
        problem = self.rate_keeping.problem(time.monotonic())
        return [(WARN, problem)] if problem else []

    def diagnostics_expects_input(self) -> tuple[bool, str]:
        if self.finished.is_set():
            return False, f"finished: {self.end_reason}"
        if self._waiting:
            return False, "waiting for subscribers"
        return True, ""

    def stats(self) -> dict[str, Any]:
        out = super().stats()
        out.setdefault("published", 0)
        out["finished"] = self.finished.is_set()
        return out

    def destroy_node(self) -> None:
        if self._source is not None:
            self._source.close()
        super().destroy_node()


def main(argv: list[str] | None = None) -> int:
    return run("camera", serve(CameraNode), argv)


if __name__ == "__main__":
    raise SystemExit(main())
