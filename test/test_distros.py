"""fer_ros on two ROS 2 distros from PyPI: Kilted (.venv/, .venv-runtime/) and Jazzy
(.venv-jazzy/, ``make jazzy-test``). The install sets name the same ROS packages, and a venv
built for a distro runs that distro's rclpy with fer_ros's messages built against it."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: set by `make jazzy-test` (jazzy); the distro the venv under test must run
TEST_DISTRO = os.environ.get("FER_ROS_TEST_DISTRO", "")
#: major version of the ros-rclpy wheel of each distro
RCLPY_MAJOR = {"humble": 3, "jazzy": 7, "kilted": 9}
#: the Fast DDS library of each distro's wheels (2.x: libfastrtps, 3.x: libfastdds)
FAST_DDS_LIBRARY = {"jazzy": "libfastrtps.so.2.*", "kilted": "libfastdds.so.3.*"}


def requirement_names(file: str) -> tuple[set[str], list[str]]:
    """The ROS package names of a requirements file (``ros-<distro>-`` prefix dropped) and
    the files it includes."""
    text = (REPO / file).read_text()
    names = {re.sub(r"^ros-(jazzy-)?", "", m) for m in re.findall(r"^(ros-[a-z0-9-]+)", text,
                                                                   re.M)}
    return names, re.findall(r"^-r (\S+)", text, re.M)


def test_the_jazzy_runtime_set_names_the_kilted_packages():
    kilted, kilted_includes = requirement_names("requirements-runtime.txt")
    jazzy, jazzy_includes = requirement_names("requirements-jazzy-runtime.txt")
    assert jazzy == kilted and "rclpy" in jazzy
    assert kilted_includes == jazzy_includes == ["requirements-runtime-common.txt"]
    text = (REPO / "requirements-jazzy-runtime.txt").read_text()
    assert not re.search(r"^ros-(?!jazzy-)", text, re.M), "an unversioned ros-* wheel"


@pytest.mark.skipif(not TEST_DISTRO, reason="FER_ROS_TEST_DISTRO names the venv's distro "
                    "(`make jazzy-test` sets jazzy)")
def test_the_venv_runs_the_expected_distro():
    from importlib.metadata import version

    import rclpy
    from fer_ros.msg import EmotionArray

    assert int(version("ros-rclpy").split(".")[0]) == RCLPY_MAJOR[TEST_DISTRO]
    assert Path(rclpy.__file__).is_relative_to(sys.prefix)
    assert list((Path(sys.prefix) / "lib").glob(FAST_DDS_LIBRARY[TEST_DISTRO]))
    # fer_ros's messages: generated and compiled in this venv, against its rosidl
    assert Path(sys.modules[EmotionArray.__module__].__file__).is_relative_to(sys.prefix)
    assert (Path(sys.prefix) / "lib" / "libfer_ros__rosidl_typesupport_c.so").is_file()
    assert EmotionArray().class_names == []
