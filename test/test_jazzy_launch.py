"""A real `ros2 launch` on ROS 2 Jazzy: .venv-jazzy with Jazzy's launch, launch_ros and ros2cli
built from shared/ros/sources (`make jazzy-test` installs them when that folder is present,
scripts/install_jazzy_ros_tools.sh) runs fer_pipeline.launch.py in a namespace; its graph
answers with emotions, and Ctrl-C (SIGINT to the process group) ends it."""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Collector, spin_until
from fer_ros.msg import EmotionArray

ROS2 = Path(sys.prefix) / "bin" / "ros2"

pytestmark = [
    pytest.mark.skipif(os.environ.get("FER_ROS_TEST_DISTRO") != "jazzy",
                       reason="the Jazzy launch smoke test runs in .venv-jazzy: make jazzy-test"),
    pytest.mark.skipif(importlib.util.find_spec("ros2launch") is None or not ROS2.is_file(),
                       reason="Jazzy's launch tools are not in this venv (make jazzy-test "
                              "installs them from ../shared/ros/sources when it is present)"),
]


def test_ros2_launch_runs_the_pipeline_and_ctrl_c_ends_it(ros_context, executor, helper_node):
    env = dict(os.environ, AMENT_PREFIX_PATH=sys.prefix)     # where `ros2` finds fer_ros
    emotions = Collector(helper_node, EmotionArray, "/jazzy_launch/emotions")
    launch = subprocess.Popen(
        [str(ROS2), "launch", "fer_ros", "fer_pipeline.launch.py", "namespace:=jazzy_launch"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    try:
        answered = spin_until(executor, lambda: any(m.faces for m in emotions.messages),
                              timeout=90)
    finally:
        os.killpg(launch.pid, signal.SIGINT)                 # a terminal's Ctrl-C
        try:
            output, _ = launch.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(launch.pid, signal.SIGKILL)
            output, _ = launch.communicate()
            pytest.fail(f"ros2 launch still running 30 s after SIGINT:\n{output}")
    print(output)
    assert answered, f"no emotions with faces on /jazzy_launch/emotions:\n{output}"
    for node in ("camera", "face_detector", "emotion", "annotator"):
        assert re.search(rf"\[{node}-\d+\]: process started", output), node
