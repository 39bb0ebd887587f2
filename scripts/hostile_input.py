#!/usr/bin/env python3
"""Hostile input against the four fer_ros nodes running as separate processes.

Starts camera (the sample clip), face_detector, emotion and annotator in a namespace of their
own, lets them warm up, then sends, next to the camera's stream:

* 20 frames of 8000x8000 bgr8 (192 MB each) and 10 of 4096x2160 on image_raw,
* malformed images (unknown encoding, step/size mismatch, zero size),
* 5 FaceDetectionArray messages of 2,000 faces (bad crops and NaN scores among them),
* an EmotionArray whose boxes are out of range (x >= 2**31, width 2**32 - 1) with its frame.

It prints, per node, the resident set size before, its peak (the kernel's VmHWM high-water
mark, so no spike is missed) and its final level, the counters the nodes report on
/diagnostics (rejected, dropped, faces over the limit...), whether the frame with the bad
boxes was annotated, and how fast the camera's valid frames got results afterwards: the
first result, and from when on every one of the camera's next 40 frames got one (recovery).
Exit code 0 when every target holds: final RSS within +20 % of before, peak under
--budget-mb, the first result within a second, recovery within 2 s.

``--burst`` sends only the oversized part, back to back (no waiting for the nodes to refuse
each frame): 20 frames of 8000x8000, then the five 2,000-face messages.

The floor under a node's peak: Fast DDS reassembles a sample, rmw deserialises it into a C
message and rclpy converts that into Python (three copies, measured by
scripts/dds_copy_floor.py with a bare subscriber: +3.0 frames) before any callback can read
the width and height and refuse it. The table shows it per node: RSS before + 3 x 192 MB.
The default budget, 800 MB, is that floor over a node's ~130-180 MB; frames within the 4K
pixel budget (26 MB) keep a node far below 600 MB.

    python scripts/hostile_input.py [--burst] [--budget-mb 800] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
# A graph of its own: a random domain, discovery on this host only (before rclpy starts).
os.environ.setdefault("ROS_DOMAIN_ID", str(random.SystemRandom().randint(120, 200)))
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import psutil
import rclpy
from benchlib.processes import exit_on_sigterm, stop_processes
from diagnostic_msgs.msg import DiagnosticArray
from fer_ros.msg import EmotionArray, FaceDetection, FaceDetectionArray
from hostile_messages import out_of_range_result
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image

from fer_ros.dds import use_large_data_profile
from fer_ros.nodes import NODE_CLASSES

#: valid frames get results again within this many seconds after the hostile input, judged
#: on the camera's next RECOVERY_FRAMES frames
RECOVERY_S = 2.0
RECOVERY_FRAMES = 40
#: copies of a frame a subscriber holds at once before its callback runs (DDS payload, C
#: message, Python message; scripts/dds_copy_floor.py measures it)
FLOOR_COPIES = 3
HUGE_FRAME_BYTES = 8000 * 8000 * 3
NODES = tuple(NODE_CLASSES)
NAMESPACE = "/hostile"
#: counters worth reporting (the nodes' stats() as /diagnostics total_<name>)
COUNTERS = ("received", "frames_received", "processed", "published", "rejected", "dropped",
            "failed", "faces_over_limit", "faces_skipped", "dropped_over_budget",
            "scores_clamped", "frames_unmatched", "results_unmatched")


def node_command(name: str, extra: list[str] = ()) -> list[str]:
    params = {"camera": ["-p", "source:=sample", "-p", "fps:=15.0", "-p", "loop:=true"],
              "emotion": [], "face_detector": [], "annotator": []}[name]
    return ([sys.executable, "-m", f"fer_ros.nodes.{name}_node", "--ros-args",
             "-r", f"__ns:={NAMESPACE}", "-p", "diagnostics_period_s:=0.5"] + params
            + [arg for item in extra for arg in ("-p", item)])


class RssSampler:
    """RSS of each node process every ``interval_s``, in a thread."""

    def __init__(self, procs: dict[str, subprocess.Popen], interval_s: float = 0.1) -> None:
        self.procs = {n: psutil.Process(p.pid) for n, p in procs.items()}
        self.samples: dict[str, list[tuple[float, int]]] = {n: [] for n in procs}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval_s,), daemon=True)
        self._thread.start()

    def _run(self, interval_s: float) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            for name, proc in self.procs.items():
                try:
                    self.samples[name].append((now, proc.memory_info().rss))
                except psutil.Error:
                    pass
            self._stop.wait(interval_s)

    def median_since(self, name: str, t0: float) -> float:
        return statistics.median(r for t, r in self.samples[name] if t >= t0)

    def high_water(self, name: str) -> int:
        """The kernel's peak RSS of the process (VmHWM), in bytes."""
        status = Path(f"/proc/{self.procs[name].pid}/status").read_text()
        kib = next(line.split()[1] for line in status.splitlines()
                   if line.startswith("VmHWM:"))
        return int(kib) * 1024

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


class Probe:
    """The script's own node: hostile publishers, result and diagnostics subscribers."""

    def __init__(self, depth: int = 1) -> None:
        use_large_data_profile()
        rclpy.init()
        self.node = rclpy.create_node("hostile_probe", namespace=NAMESPACE)
        reliable = QoSProfile(depth=depth, reliability=ReliabilityPolicy.RELIABLE)
        self.image_pub = self.node.create_publisher(Image, "image_raw", reliable)
        self.faces_pub = self.node.create_publisher(FaceDetectionArray, "faces", reliable)
        self.emotions_pub = self.node.create_publisher(EmotionArray, "emotions", reliable)
        self.lock = threading.Lock()
        self.results: list[tuple[float, float, str]] = []     # (arrival, stamp, frame_id)
        self.annotated: list[tuple[float, str]] = []          # (stamp, frame_id)
        self.totals: dict[str, dict[str, str]] = {}
        deep = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
        self.node.create_subscription(EmotionArray, "emotions", self._on_result, deep)
        self.node.create_subscription(Image, "image_annotated", self._on_annotated, deep)
        self.node.create_subscription(DiagnosticArray, "/diagnostics", self._on_diag, deep)
        self.published: list[float] = []                      # camera frame stamps
        self.node.create_subscription(CameraInfo, "camera_info", self._on_info, deep)
        self.executor = SingleThreadedExecutor()
        self.executor.add_node(self.node)
        self._thread = threading.Thread(target=self.executor.spin, daemon=True)
        self._thread.start()

    @staticmethod
    def _stamp(header) -> float:
        return header.stamp.sec + header.stamp.nanosec * 1e-9

    def _on_result(self, msg: EmotionArray) -> None:
        with self.lock:
            self.results.append((time.time(), self._stamp(msg.header), msg.header.frame_id))

    def _on_info(self, msg: CameraInfo) -> None:
        with self.lock:
            self.published.append(self._stamp(msg.header))

    def _on_annotated(self, msg: Image) -> None:
        with self.lock:
            self.annotated.append((self._stamp(msg.header), msg.header.frame_id))

    def _on_diag(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            name = status.name.rsplit("/", 1)[-1]
            with self.lock:
                self.totals[name] = {kv.key[len("total_"):]: kv.value for kv in status.values
                                     if kv.key.startswith("total_")}

    def rejected(self) -> dict[str, int]:
        with self.lock:
            return {n: int(self.totals.get(n, {}).get("rejected", 0)) for n in NODES}

    def header(self, msg, frame_id: str, stamp: float | None = None) -> None:
        stamp = time.time() if stamp is None else stamp
        msg.header.stamp.sec = int(stamp)
        msg.header.stamp.nanosec = int((stamp % 1) * 1e9)
        msg.header.frame_id = frame_id

    def close(self) -> None:
        self.executor.shutdown(timeout_sec=1.0)
        self._thread.join(timeout=5.0)      # a spinning thread left at exit aborts Python
        self.node.destroy_node()
        rclpy.try_shutdown()


def image(width: int, height: int, data: bytes | None = None, encoding: str = "bgr8",
          step: int | None = None) -> Image:
    msg = Image()
    msg.width, msg.height, msg.encoding = width, height, encoding
    msg.step = width * 3 if step is None else step
    msg.data = bytes(msg.step * height) if data is None else data
    return msg


def faces_message(n: int, rng: np.random.Generator) -> FaceDetectionArray:
    """``n`` faces with 60x60 crops; every 10th crop undecodable, every 7th score NaN."""
    msg = FaceDetectionArray()
    good = image(60, 60, data=bytes(rng.integers(0, 255, 60 * 60 * 3, np.uint8)))
    bad = image(60, 60, encoding="nope")
    for i in range(n):
        face = FaceDetection()
        face.id = i + 1
        face.box.x_offset, face.box.y_offset = int(rng.integers(0, 2**32)), 10
        face.box.width = face.box.height = 60
        face.score = float("nan") if i % 7 == 0 else 0.9
        msg.faces.append(face)
        msg.crops.append(bad if i % 10 == 0 else good)
    return msg


def send_hostile_input(probe: Probe, log: list[str]) -> float:
    """Publish the hostile messages; returns the stamp of the bad-box frame."""
    rng = np.random.default_rng(0)
    huge = image(8000, 8000)
    for _ in range(20):
        before = probe.rejected()
        probe.header(huge, "hostile")
        probe.image_pub.publish(huge)
        # wait until the annotator refused it (a depth-1 writer would replace a frame still
        # being delivered: it would never arrive). The face_detector (qos_depth 1) gets none
        # while the camera streams: Fast DDS drops a sample being reassembled from a depth-1
        # reader's history when a complete camera frame arrives.
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and probe.rejected()["annotator"] <= \
                before["annotator"]:
            time.sleep(0.05)
    del huge
    log.append("sent 20 frames of 8000x8000 bgr8 (192 MB each), one at a time")
    uhd = image(4096, 2160)
    for _ in range(10):
        probe.header(uhd, "hostile")
        probe.image_pub.publish(uhd)
        time.sleep(0.5)
    del uhd
    log.append("sent 10 frames of 4096x2160 bgr8 (within the pixel budget)")
    for bad in (image(640, 480, encoding="weird16"), image(640, 480, data=bytes(1000)),
                image(640, 480, step=100, data=bytes(100 * 480)), image(0, 0, data=b""),
                image(8000, 8000, data=bytes(64))):
        probe.header(bad, "hostile")
        probe.image_pub.publish(bad)
        time.sleep(0.1)
    log.append("sent 5 malformed images")
    for _ in range(5):
        msg = faces_message(2000, rng)
        probe.header(msg, "hostile")
        probe.faces_pub.publish(msg)
        time.sleep(0.5)
    log.append("sent 5 FaceDetectionArray messages of 2,000 faces (10 % bad crops, "
               "1/7 NaN scores)")
    stamp = time.time()
    result = out_of_range_result()
    probe.header(result, "hostile_box", stamp)
    probe.emotions_pub.publish(result)          # the result first: it waits for its frame
    time.sleep(0.2)
    frame = image(640, 480)
    probe.header(frame, "hostile_box", stamp)
    probe.image_pub.publish(frame)
    log.append("sent an EmotionArray with out-of-range boxes, then its 640x480 frame")
    return stamp


def send_burst(probe: Probe, log: list[str]) -> None:
    """The oversized burst, back to back: 20 frames of 8000x8000, then five FaceDetectionArray
    messages of 2,000 faces."""
    rng = np.random.default_rng(0)
    huge = image(8000, 8000)
    for _ in range(20):
        probe.header(huge, "hostile")
        probe.image_pub.publish(huge)
    del huge
    for _ in range(5):
        msg = faces_message(2000, rng)
        probe.header(msg, "hostile")
        probe.faces_pub.publish(msg)
    log.append("burst: 20 frames of 8000x8000 bgr8 (192 MB each), then 5 FaceDetectionArray "
               "messages of 2,000 faces, back to back")


def recovery(published: list[float], answered: set[float], t_end: float, frames: int
             ) -> tuple[float | None, int, int]:
    """(seconds from ``t_end`` to the stamp of the first camera frame from which on every
    frame got a result, or None; how many of the ``frames`` frames published after ``t_end``
    got one; how many of them there were)."""
    after = sorted(s for s in published if s > t_end)[:frames]
    recovered = None
    for stamp in reversed(after):
        if stamp not in answered:
            break
        recovered = stamp - t_end
    return recovered, sum(1 for s in after if s in answered), len(after)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget-mb", type=float, default=800.0,
                        help="peak RSS budget per node process (MB, default 800)")
    parser.add_argument("--settle-s", type=float, default=8.0,
                        help="seconds after the hostile input before the final RSS")
    parser.add_argument("--burst", action="store_true",
                        help="send only the oversized burst, back to back (no waiting for "
                             "the nodes to refuse each frame), and measure the recovery")
    parser.add_argument("--publisher-depth", type=int, default=1,
                        help="history depth of the hostile (reliable) publishers; with --burst "
                             "e.g. 10, rclpy's usual, queues the burst (default 1)")
    parser.add_argument("--node-param", action="append", default=[], metavar="NODE:NAME=VALUE",
                        help="extra parameter of one node (repeatable), e.g. "
                             "face_detector:reliability=best_effort")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--log-dir", type=Path, help="node logs (default: a temp folder)")
    args = parser.parse_args(argv)
    exit_on_sigterm()

    log_dir = args.log_dir or Path(tempfile.mkdtemp(prefix="fer_hostile_"))
    log_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    procs: dict[str, subprocess.Popen] = {}
    probe = Probe(args.publisher_depth)
    for name in ("face_detector", "emotion", "annotator", "camera"):
        with open(log_dir / f"{name}.log", "w") as out:
            extra = [item.split(":", 1)[1].replace("=", ":=", 1) for item in args.node_param
                     if item.split(":", 1)[0] == name]
            procs[name] = subprocess.Popen(node_command(name, extra), cwd=REPO, env=env,
                                           stdout=out, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL)
    sampler = RssSampler(procs)
    report: dict[str, Any] = {"log_dir": str(log_dir), "events": []}
    try:
        deadline = time.monotonic() + 120
        while not probe.results or not probe.annotated:
            if time.monotonic() > deadline or any(p.poll() is not None for p in
                                                  procs.values()):
                print(f"the graph did not produce results; logs in {log_dir}")
                return 2
            time.sleep(0.2)
        time.sleep(5.0)                                        # warm-up
        t_before = time.monotonic()
        time.sleep(2.0)
        before = {n: sampler.median_since(n, t_before) for n in NODES}
        peak_before = {n: sampler.high_water(n) for n in NODES}

        if args.burst:
            send_burst(probe, report["events"])
            box_stamp = None
        else:
            box_stamp = send_hostile_input(probe, report["events"])
        t_end = time.time()
        time.sleep(args.settle_s)
        t_final = time.monotonic()
        time.sleep(2.0)
        final = {n: sampler.median_since(n, t_final) for n in NODES}
        peak = {n: sampler.high_water(n) for n in NODES}
        with probe.lock:
            after = [(arr, stamp) for arr, stamp, fid in probe.results
                     if fid == "camera" and stamp > t_end]
            box_drawn = box_stamp is None or any(
                f == "hostile_box" and abs(s - box_stamp) < 1e-6 for s, f in probe.annotated)
            recovered_s, answered, published = recovery(
                probe.published, {stamp for _, stamp, fid in probe.results if fid == "camera"},
                t_end, RECOVERY_FRAMES)
            totals = {n: dict(probe.totals.get(n, {})) for n in NODES}
        exits = {n: p.poll() for n, p in procs.items()}
    finally:
        sampler.stop()
        stop_processes(procs.values())
        probe.close()

    latencies = [arr - stamp for arr, stamp in after]
    first_delay = (after[0][0] - t_end) if after else None
    mb = 1e6
    print("hostile input:")
    for line in report["events"]:
        print(f"  {line}")
    print(f"\n{'node':<14}{'before MB':>10}{'peak MB':>9}{'floor MB':>10}{'final MB':>10}"
          f"{'final/before':>14}{'startup peak':>14}")
    ok = True
    for n in NODES:
        ratio = final[n] / before[n]
        node_ok = ratio <= 1.2 and peak[n] <= args.budget_mb * mb and exits[n] is None
        ok &= node_ok
        floor = before[n] + FLOOR_COPIES * HUGE_FRAME_BYTES
        print(f"{n:<14}{before[n] / mb:>10.0f}{peak[n] / mb:>9.0f}{floor / mb:>10.0f}"
              f"{final[n] / mb:>10.0f}"
              f"{ratio:>13.2f}x{peak_before[n] / mb:>13.0f}"
              f"{'' if node_ok else '   <- over target'}")
    print("\ncounters (from /diagnostics):")
    for n in NODES:
        shown = {k: totals[n][k] for k in COUNTERS if k in totals[n]}
        print(f"  {n}: " + ", ".join(f"{k}={v}" for k, v in shown.items()))
    if box_stamp is not None:
        print(f"\nframe with out-of-range boxes annotated: {'yes' if box_drawn else 'NO'}")
    print(f"recovery: {answered} of the next {published} camera frames got results; every "
          "frame from "
          + ("never" if recovered_s is None else f"{recovered_s:.2f} s after the input on"))
    if latencies:
        print(f"valid frames afterwards: first result {first_delay:.2f} s after the hostile "
              f"input; {len(latencies)} results in {args.settle_s + 2:.0f} s, latency median "
              f"{statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} "
              "ms")
    else:
        print("valid frames afterwards: NO results")
    results_ok = (bool(latencies) and first_delay is not None and first_delay <= 1.0
                  and recovered_s is not None and recovered_s <= RECOVERY_S)
    ok &= results_ok and box_drawn
    print(f"\ntargets (final <= 1.2 x before, peak <= {args.budget_mb:.0f} MB, first result "
          f"within 1 s, every frame answered from {RECOVERY_S:g} s on, bad boxes drawn): "
          f"{'MET' if ok else 'NOT MET'}   (logs: {log_dir})")
    if args.json:
        report.update(before=before, peak=peak, final=final, peak_before=peak_before,
                      totals=totals, box_drawn=box_drawn, first_result_s=first_delay,
                      latencies_s=latencies, exits=exits, recovered_s=recovered_s,
                      recovery_answered=answered, recovery_frames=published, passed=ok)
        args.json.write_text(json.dumps(report, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
