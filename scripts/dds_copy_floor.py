#!/usr/bin/env python3
"""The floor under a node's peak memory for an oversized frame: what DDS, rcl and rclpy hold
before any callback can read the frame's size and refuse it.

Starts a bare rclpy subscriber process (no fer_ros node: its callback only reads width and
height, as the nodes' pixel-budget check does, and acknowledges), with the fer_ros Fast DDS
profile (fer_ros.dds) and the given history depth, then publishes ``--frames`` bgr8 frames
of ``--size`` pixels a side to it one at a time, each after the previous one was taken. It
prints the subscriber's resident size before, its peak (VmHWM) and the peak's excess over
the baseline in frames: the copies every subscriber pays, whatever it does with the frame.

    python scripts/dds_copy_floor.py [--size 8000] [--frames 5] [--depth 1]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("ROS_DOMAIN_ID", str(random.SystemRandom().randint(120, 200)))
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")

from fer_ros.dds import use_large_data_profile

NAMESPACE = "/dds_copy_floor"


def status_kib(pid: int, field: str) -> int:
    line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines()
                if x.startswith(field + ":"))
    return int(line.split()[1])


def subscriber(depth: int, reliability: str) -> None:
    """The bare subscriber: acknowledge every frame with its width."""
    import rclpy
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import Image
    from std_msgs.msg import UInt32

    rclpy.init()
    node = rclpy.create_node("floor_subscriber", namespace=NAMESPACE)
    qos = QoSProfile(depth=depth, reliability=ReliabilityPolicy.RELIABLE
                     if reliability == "reliable" else ReliabilityPolicy.BEST_EFFORT)
    ack = node.create_publisher(UInt32, "ack", QoSProfile(depth=10,
                                reliability=ReliabilityPolicy.RELIABLE))
    node.create_subscription(Image, "image_raw",
                             lambda msg: ack.publish(UInt32(data=int(msg.width))), qos)
    print("ready", flush=True)
    from rclpy.executors import ExternalShutdownException
    try:
        rclpy.spin(node)
    except (ExternalShutdownException, KeyboardInterrupt):   # terminated by the parent
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=8000, help="frame side, pixels")
    parser.add_argument("--frames", type=int, default=5)
    parser.add_argument("--depth", type=int, default=1, help="subscriber history depth")
    parser.add_argument("--reliability", choices=("reliable", "best_effort"),
                        default="reliable", help="subscriber reliability (default reliable)")
    parser.add_argument("--subscriber", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    use_large_data_profile()
    if args.subscriber:
        subscriber(args.depth, args.reliability)
        return 0

    import rclpy
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import Image
    from std_msgs.msg import UInt32

    child = subprocess.Popen([sys.executable, __file__, "--subscriber", "--depth",
                              str(args.depth), "--reliability", args.reliability],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        rclpy.init()
        node = rclpy.create_node("floor_publisher", namespace=NAMESPACE)
        pub = node.create_publisher(Image, "image_raw", QoSProfile(
            depth=1, reliability=ReliabilityPolicy.RELIABLE))
        acks: list[int] = []
        node.create_subscription(UInt32, "ack", lambda m: acks.append(m.data), QoSProfile(
            depth=10, reliability=ReliabilityPolicy.RELIABLE))
        deadline = time.monotonic() + 20
        while pub.get_subscription_count() < 1 or node.count_publishers(
                f"{NAMESPACE}/ack") < 1:
            rclpy.spin_once(node, timeout_sec=0.1)
            if time.monotonic() > deadline:
                print("the subscriber did not connect")
                return 2
        small = Image(width=64, height=64, encoding="bgr8", step=192, data=bytes(192 * 64))
        pub.publish(small)
        while not acks:
            rclpy.spin_once(node, timeout_sec=0.1)
        time.sleep(1.0)
        before = status_kib(child.pid, "VmRSS") * 1024
        frame_bytes = args.size * args.size * 3
        huge = Image(width=args.size, height=args.size, encoding="bgr8", step=args.size * 3,
                     data=bytes(frame_bytes))
        for k in range(args.frames):
            pub.publish(huge)
            deadline = time.monotonic() + 10
            while len(acks) < k + 2 and time.monotonic() < deadline:
                rclpy.spin_once(node, timeout_sec=0.1)
        peak = status_kib(child.pid, "VmHWM") * 1024
        time.sleep(3.0)
        after = status_kib(child.pid, "VmRSS") * 1024
        for _ in range(3):       # the same publisher goes on with small frames
            pub.publish(small)
            time.sleep(0.3)
        time.sleep(2.0)
        later = status_kib(child.pid, "VmRSS") * 1024
        print(f"bare rclpy subscriber ({args.reliability}, depth {args.depth}), {len(acks) - 1} of "
              f"{args.frames} frames of {args.size}x{args.size} bgr8 ({frame_bytes / 1e6:.0f} MB) "
              f"taken: RSS before {before / 1e6:.0f} MB, peak {peak / 1e6:.0f} MB = "
              f"+{(peak - before) / frame_bytes:.2f} frames; 3 s later {after / 1e6:.0f} MB "
              f"(+{(after - before) / frame_bytes:.2f} frames still held), after 3 small frames "
              f"from the same publisher {later / 1e6:.0f} MB")
        node.destroy_node()
        rclpy.try_shutdown()
    finally:
        child.terminate()
        child.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
