"""fer_ros.dds: the Fast DDS profile for camera-sized samples, and what it fixes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

from fer_ros.dds import PROFILE_VARIABLES, use_large_data_profile

REPO = Path(__file__).resolve().parents[1]
SHIPPED_PROFILE = REPO / "config" / "fastdds_large_data.xml"
NS = {"dds": "http://www.eprosima.com"}


def test_sets_the_package_profile_when_none_is_chosen():
    env = {}
    used = use_large_data_profile(env, SHIPPED_PROFILE)
    assert used == SHIPPED_PROFILE
    assert env == {"FASTDDS_DEFAULT_PROFILES_FILE": str(SHIPPED_PROFILE),     # Fast DDS 3
                   "FASTRTPS_DEFAULT_PROFILES_FILE": str(SHIPPED_PROFILE),    # Fast DDS 2
                   "RMW_FASTRTPS_USE_QOS_FROM_XML": "1"}


def test_finds_the_profile_in_the_share_directory():
    env = {}
    used = use_large_data_profile(env)
    assert used is not None and used.name == "fastdds_large_data.xml" and used.is_file()


def test_leaves_a_user_profile_alone(tmp_path):
    for name in PROFILE_VARIABLES:
        env = {name: "/etc/my_profile.xml"}
        assert use_large_data_profile(env, SHIPPED_PROFILE) is None
        assert env == {name: "/etc/my_profile.xml"}


def test_missing_profile_file_changes_nothing(tmp_path):
    env = {}
    assert use_large_data_profile(env, tmp_path / "absent.xml") is None
    assert env == {}


def test_profile_segment_holds_camera_frames():
    root = ET.parse(SHIPPED_PROFILE).getroot()
    shm = [d for d in root.iterfind(".//dds:transport_descriptor", NS)
           if d.findtext("dds:type", namespaces=NS) == "SHM"]
    assert len(shm) == 1
    segment = int(shm[0].findtext("dds:segment_size", namespaces=NS))
    assert segment >= 4 * 640 * 480 * 3          # several VGA bgr8 frames
    participant = root.find(".//dds:participant", NS)
    assert participant.get("is_default_profile") == "true"
    transports = [t.text for t in participant.iterfind(".//dds:transport_id", NS)]
    kinds = {d.findtext("dds:transport_id", namespaces=NS): d.findtext("dds:type", namespaces=NS)
             for d in root.iterfind(".//dds:transport_descriptor", NS)}
    assert sorted(kinds[t] for t in transports) == ["SHM", "UDPv4"]   # other hosts still work


PUBLISHER = textwrap.dedent("""
    import sys, time
    import numpy as np
    from fer_ros.dds import use_large_data_profile
    use_large_data_profile()
    import rclpy
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Image
    rclpy.init()
    node = rclpy.create_node("dds_test_publisher")
    pub = node.create_publisher(Image, "dds_test_image", qos_profile_sensor_data)
    deadline = time.monotonic() + 20
    while pub.get_subscription_count() == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    msg = Image(height=480, width=640, encoding="bgr8", step=1920)
    msg.data = np.random.default_rng(0).integers(0, 255, 480 * 640 * 3, np.uint8).tobytes()
    for i in range(int(sys.argv[1])):
        msg.header.frame_id = str(i)
        pub.publish(msg)
        time.sleep(1 / 30)
    time.sleep(1.0)
""")

SUBSCRIBER = textwrap.dedent("""
    import sys, time
    import rclpy
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Image
    rclpy.init()
    node = rclpy.create_node("dds_test_subscriber")
    received = set()
    node.create_subscription(Image, "dds_test_image",
                             lambda m: received.add(m.header.frame_id) if len(m.data) == 921600
                             else None, qos_profile_sensor_data)
    deadline = time.monotonic() + float(sys.argv[1])
    while time.monotonic() < deadline and len(received) < int(sys.argv[2]):
        rclpy.spin_once(node, timeout_sec=0.1)
    print(len(received))
""")


def test_best_effort_vga_frames_arrive_between_processes():
    """A camera-like publisher (with the profile) reaches a default subscriber (like
    rqt_image_view) in another process, best effort, without losing frames."""
    frames = 90
    env = {k: v for k, v in os.environ.items() if k not in PROFILE_VARIABLES}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    sub = subprocess.Popen([sys.executable, "-c", SUBSCRIBER, "25", str(frames)], env=env,
                           stdout=subprocess.PIPE, text=True)
    pub = subprocess.run([sys.executable, "-c", PUBLISHER, str(frames)], env=env,
                         timeout=60, capture_output=True, text=True)
    out, _ = sub.communicate(timeout=60)
    assert pub.returncode == 0, pub.stderr
    received = int(out.strip().splitlines()[-1])
    print(f"{received} of {frames} best-effort 640x480 frames received")
    assert received >= 0.95 * frames


def test_the_profile_frees_sample_memory():
    """DYNAMIC: a sample's buffer is freed once taken (PREALLOCATED_WITH_REALLOC, the rmw's
    choice, keeps each history slot at the largest sample's size)."""
    import xml.etree.ElementTree as ET

    root = ET.parse(SHIPPED_PROFILE).getroot()
    for kind in ("data_writer", "data_reader"):
        endpoint = root.find(f".//dds:{kind}[@is_default_profile='true']", NS)
        assert endpoint is not None, kind
        assert endpoint.findtext("dds:historyMemoryPolicy", namespaces=NS) == "DYNAMIC"
