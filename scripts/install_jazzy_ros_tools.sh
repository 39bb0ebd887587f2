#!/usr/bin/env bash
# Installs ROS 2 Jazzy's launch system and `ros2` command line into a Jazzy venv (made by
# `make jazzy-venv`) from the upstream sources in shared/ros/sources (not on PyPI; see its
# README.md): launch, launch_xml, launch_yaml, launch_ros, ros2launch, ros2cli and its verbs,
# rosidl_runtime_py (ament_python: pip, no dependencies) and composition_interfaces (a message
# package that launch_ros imports: CMake against the venv's Jazzy wheels), plus their PyPI
# dependencies. They are dependencies of the tests, installed into the venv, never copied
# into this repository. launch, launch_ros and ros2cli's core: scripts/install_ros_launch.sh.
#
# usage: scripts/install_jazzy_ros_tools.sh VENV SHARED_ROS_DIR BUILD_DIR
set -euo pipefail

venv="$(realpath "$1")"
shared_ros="$(realpath "$2")"
sources="$shared_ros/sources"
build="$(mkdir -p "$3" && realpath "$3")"
py="$venv/bin/python"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# upstream archives of the Jazzy branches (shared/ros/sources/SOURCES.txt: repository, commit)
# besides launch, launch_ros and ros2cli (install_ros_launch.sh unpacks those)
archives=(rosidl_runtime_py-jazzy composition_interfaces-jazzy)
rm -rf "$build/src"
mkdir -p "$build/src"
for name in "${archives[@]}"; do
  tar -xzf "$sources/$name.tar.gz" -C "$build/src"
done
src="$build/src"

# PyPI dependencies of launch / launch_ros / ros2cli (package.xml exec_depends; lark-parser,
# PyYAML and packaging are in the venv already), and wheel: the sources build with setuptools
$py -m pip install --quiet 'osrf-pycommon>=2.0,<3' 'argcomplete>=3,<4' 'psutil>=5.9' wheel

# composition_interfaces: generated and compiled like fer_ros's own messages, with the same
# fix of the wheels' exported include directories
cmake -S "$src/composition_interfaces-jazzy/composition_interfaces" \
  -B "$build/composition_interfaces" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
  -DCMAKE_PROJECT_INCLUDE="$repo/cmake/message_package_in_venv.cmake" \
  -DCMAKE_PREFIX_PATH="$venv" -DCMAKE_INSTALL_PREFIX="$venv" -DPython3_EXECUTABLE="$py" \
  -DPython3_FIND_VIRTUALENV=ONLY >"$build/composition_interfaces.log"
AMENT_PREFIX_PATH="$venv" cmake --build "$build/composition_interfaces" \
  >>"$build/composition_interfaces.log"
cmake --install "$build/composition_interfaces" >>"$build/composition_interfaces.log"

# the ament_python packages: pip puts their share/ files (ament index, package.xml) into
# the venv prefix, where `ros2` finds packages with AMENT_PREFIX_PATH=<venv>. launch,
# launch_ros, ros2cli and ros2pkg first, then rosidl_runtime_py and the other ros2cli verbs.
bash "$repo/scripts/install_ros_launch.sh" jazzy "$shared_ros" "$src" "$py" --quiet
$py -m pip install --quiet --no-deps --no-build-isolation \
  "$src/rosidl_runtime_py-jazzy" \
  "$src/ros2cli/ros2run" "$src/ros2cli/ros2node" "$src/ros2cli/ros2topic" \
  "$src/ros2cli/ros2param" "$src/ros2cli/ros2lifecycle" "$src/ros2cli/ros2interface" \
  "$src/ros2cli/ros2service"
echo "Jazzy launch, launch_ros and ros2cli installed into $venv"
