"""Calibration files -> CameraInfo fields (fer_ros.camera_info, ROS-free)."""

from __future__ import annotations

import pytest

from fer_ros.camera_info import load_camera_info
from fer_ros.errors import StartupError
from fer_ros.sources import SourceError

K = [500, 0, 320, 0, 500, 240, 0, 0, 1]


def write(tmp_path, text, name="cal.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def minimal(extra=""):
    return ("image_width: 640\nimage_height: 480\ncamera_name: cam\n"
            f"camera_matrix: {{rows: 3, cols: 3, data: {K}}}\n" + extra)


def test_a_minimal_file_gets_identity_rectification_and_p_from_k(tmp_path):
    info = load_camera_info(str(write(tmp_path, minimal())))
    assert (info["width"], info["height"], info["camera_name"]) == (640, 480, "cam")
    assert info["k"] == [float(v) for v in K]
    assert info["r"] == [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    assert info["p"] == [500.0, 0.0, 320.0, 0.0, 0.0, 500.0, 240.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    assert info["distortion_model"] == "plumb_bob" and info["d"] == []


def test_file_url_and_given_fields(tmp_path):
    path = write(tmp_path, minimal("distortion_model: equidistant\n"
                                   "distortion_coefficients: {data: [0.1, 0.2, 0, 0]}\n"
                                   f"projection_matrix: {{data: {list(range(12))}}}\n"))
    info = load_camera_info(f"file://{path}")
    assert info["distortion_model"] == "equidistant" and info["d"] == [0.1, 0.2, 0.0, 0.0]
    assert info["p"] == [float(v) for v in range(12)]


@pytest.mark.parametrize("text, why", [
    ("image_width: 640\n", "missing or bad field"),
    ("image_width: [\n", "not valid YAML"),
    (minimal().replace(str(K), "[1, 2, 3]"), "need 9 values"),
    (minimal("projection_matrix: {data: [1, 2]}\n"), "needs 12 values"),
    ("just a string\n", "missing or bad field"),
])
def test_bad_files_name_the_url_and_the_problem(tmp_path, text, why):
    path = write(tmp_path, text)
    with pytest.raises(SourceError, match=why) as info:
        load_camera_info(str(path))
    assert str(path) in str(info.value)
    assert isinstance(info.value, StartupError)    # the executable exits 1 without a traceback


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(SourceError, match="cannot read"):
        load_camera_info(f"file://{tmp_path / 'none.yaml'}")
