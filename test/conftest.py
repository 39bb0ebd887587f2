"""Shared pytest fixtures for fer_ros.

ROS isolation: every test session gets its own random ROS_DOMAIN_ID (override with
FER_ROS_TEST_DOMAIN_ID) and discovery limited to this host, so parallel runs on one machine
(or a CI neighbour) never see each other's topics. This happens at import time, before any
test can call rclpy.init().
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# the repository (fer_ros from this tree) and scripts/ (benchlib, the bench's package)
for _path in (REPO, REPO / "scripts"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

os.environ["ROS_DOMAIN_ID"] = os.environ.get("FER_ROS_TEST_DOMAIN_ID",
                                             str(random.SystemRandom().randint(1, 101)))
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

CLASS_NAMES = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]
SHIPPED_MODEL = REPO / "models" / "emotion_cnn.tflite"


# ---------------------------------------------------------------------------- ROS helpers
@pytest.fixture
def ros_context():
    """A fresh rclpy Context for one test (shut down afterwards)."""
    import rclpy
    from rclpy.context import Context

    ctx = Context()
    rclpy.init(context=ctx)
    try:
        yield ctx
    finally:
        rclpy.try_shutdown(context=ctx)


@pytest.fixture
def executor(ros_context):
    """A SingleThreadedExecutor on ros_context, as every fer_ros executable spins; nodes
    added to it are destroyed afterwards."""
    from rclpy.executors import SingleThreadedExecutor

    ex = SingleThreadedExecutor(context=ros_context)
    try:
        yield ex
    finally:
        for node in list(ex.get_nodes()):
            ex.remove_node(node)
            node.destroy_node()
        ex.shutdown(timeout_sec=2.0)


def spin_until(executor, predicate, timeout: float = 10.0, step: float = 0.05) -> bool:
    """Spin ``executor`` until ``predicate()`` is true or ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        executor.spin_once(timeout_sec=step)
    return bool(predicate())


def wait_connected(executor, publishers, outputs=()) -> bool:
    """Spin until each publisher has its count of subscriptions (``{publisher: count}``) and
    each ``(node, topic)`` of ``outputs`` has a subscriber (a test's Collector), so that what
    the test publishes next is not lost to discovery."""
    return spin_until(executor, lambda: all(
        p.get_subscription_count() >= n for p, n in publishers.items()) and all(
        node.count_subscribers(topic) >= 1 for node, topic in outputs))


class Collector:
    """Subscribes to one topic on a helper node and keeps every message."""

    def __init__(self, node, msg_type, topic, qos=10):
        self.messages = []
        self.sub = node.create_subscription(msg_type, topic, self.messages.append, qos)


@pytest.fixture
def helper_node(ros_context, executor):
    """A plain node (publishers/collectors of a test), spun by ``executor``."""
    from rclpy.node import Node

    node = Node("test_helper", context=ros_context)
    executor.add_node(node)
    return node


# ---------------------------------------------------------------------------- images
@pytest.fixture(scope="session")
def astronaut_bgr():
    """skimage's astronaut photo (512x512, one face near x=169..280, y=66..177), BGR."""
    data = pytest.importorskip("skimage.data")
    return data.astronaut()[:, :, ::-1].copy()


# Face region of the astronaut photo: the crop pasted into composite frames, and where the face
# box lies inside that crop (measured with BlazeFace: about (169, 66, 111, 111) in the photo).
ASTRONAUT_PATCH = (120, 20, 220, 220)          # x, y, w, h in the photo
ASTRONAUT_FACE_IN_PATCH = (49, 46, 111, 111)   # x, y, w, h inside the patch


def composite_frame(astronaut, positions, size=(480, 640)):
    """A grey frame with the astronaut's face patch pasted at each (x, y) of ``positions``.

    Returns (frame, expected face boxes (x, y, w, h) in frame pixels).
    """
    import numpy as np

    px, py, pw, ph = ASTRONAUT_PATCH
    patch = astronaut[py:py + ph, px:px + pw]
    frame = np.full(size + (3,), 110, np.uint8)
    boxes = []
    fx, fy, fw, fh = ASTRONAUT_FACE_IN_PATCH
    for x, y in positions:
        frame[y:y + ph, x:x + pw] = patch
        boxes.append((x + fx, y + fy, fw, fh))
    return frame, boxes


# ---------------------------------------------------------------------------- models
def build_tiny_model(path: Path, class_names=CLASS_NAMES) -> Path:
    """A tiny Keras CNN (48x48x1 in [0,255] -> softmax 7) converted to .tflite, with card."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np

    tf = pytest.importorskip("tensorflow", reason="the tiny test model is built with "
                             "TensorFlow, not in this venv (runtime set)")
    from tensorflow import keras

    keras.utils.set_random_seed(7)
    model = keras.Sequential([
        keras.Input((48, 48, 1)),
        keras.layers.Rescaling(1.0 / 255.0),
        keras.layers.Conv2D(4, 3, strides=4, activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(len(class_names), activation="softmax"),
    ])
    model(np.zeros((1, 48, 48, 1), np.float32))
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    path.write_bytes(converter.convert())
    card = {"class_names": list(class_names),
            "input": {"shape": [48, 48, 1], "dtype": "float32", "range": [0, 255],
                      "color": "grayscale"},
            "note": "tiny untrained test model built by test/conftest.py"}
    Path(str(path) + ".json").write_text(json.dumps(card, indent=2))
    return path


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """Path of a tiny .tflite emotion model (+ card) built once per test session."""
    return build_tiny_model(tmp_path_factory.mktemp("model") / "tiny_emotion.tflite")


@pytest.fixture(scope="session")
def emotion_model(tmp_path_factory) -> Path:
    """The shipped models/emotion_cnn.tflite when it exists (with its card), else a tiny one.

    FER_ROS_TEST_TINY_MODEL=1 forces the tiny model.
    """
    card = Path(str(SHIPPED_MODEL) + ".json")
    if SHIPPED_MODEL.is_file() and card.is_file() and \
            os.environ.get("FER_ROS_TEST_TINY_MODEL", "") in ("", "0"):
        return SHIPPED_MODEL
    return build_tiny_model(tmp_path_factory.mktemp("model") / "tiny_emotion.tflite")
