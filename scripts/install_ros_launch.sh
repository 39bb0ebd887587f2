#!/usr/bin/env bash
# Installs one ROS 2 distro's launch system and `ros2` core from the upstream sources in
# shared/ros/sources (not on PyPI; see its README.md): unpacks the distro's launch, launch_ros
# and ros2cli archives into SRC_DIR/{launch,launch_ros,ros2cli} and pip-installs launch,
# launch_xml, launch_yaml, launch_ros, ros2launch, ros2cli and ros2pkg from them (no
# dependencies, no build isolation). The one home of which archive belongs to which distro;
# used by the Makefile's launch-tools target (into build/launch-<distro>/, with --target) and
# by scripts/install_jazzy_ros_tools.sh (into a Jazzy venv, which adds more ros2cli verbs from
# SRC_DIR/ros2cli). Dependencies of the tests, never copied into this repository.
#
# usage: scripts/install_ros_launch.sh DISTRO SHARED_ROS_DIR SRC_DIR PYTHON [PIP_ARGS...]
#   DISTRO: humble | jazzy; PIP_ARGS go to `PYTHON -m pip install` (e.g. --target DIR)
set -euo pipefail

distro="$1"
sources="$(realpath "$2")/sources"
src="$3"
py="$4"
shift 4

# upstream archives of the distro's branches (shared/ros/sources/SOURCES.txt: repository, commit)
case "$distro" in
  humble) launch=launch-1.0.7 ;;
  jazzy) launch=launch-3.4.3 ;;
  *) echo "install_ros_launch.sh: unknown distro '$distro' (humble | jazzy)" >&2; exit 2 ;;
esac
for repo in launch:"$launch" launch_ros:launch_ros-"$distro" ros2cli:ros2cli-"$distro"; do
  rm -rf "${src:?}/${repo%%:*}"
  mkdir -p "$src/${repo%%:*}"
  tar -xzf "$sources/${repo#*:}.tar.gz" -C "$src/${repo%%:*}" --strip-components=1
done

"$py" -m pip install --no-deps --no-build-isolation "$@" \
  "$src/launch/launch" "$src/launch/launch_xml" "$src/launch/launch_yaml" \
  "$src/launch_ros/launch_ros" "$src/launch_ros/ros2launch" \
  "$src/ros2cli/ros2cli" "$src/ros2cli/ros2pkg"
