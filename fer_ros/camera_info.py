"""Camera calibration files (camera_calibration / camera_info_manager YAML) -> the fields
of a sensor_msgs/CameraInfo. ROS-free."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fer_ros.sources import SourceError


def load_camera_info(url: str) -> dict[str, Any]:
    """Read a camera_calibration YAML (``file://`` URL or path) into CameraInfo fields."""
    import yaml

    path = Path(url[len("file://"):] if url.startswith("file://") else url).expanduser()
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise SourceError(f"camera_info_url '{url}': cannot read {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise SourceError(f"camera_info_url '{url}': not valid YAML: {exc}") from exc
    try:
        out = {
            "width": int(data["image_width"]),
            "height": int(data["image_height"]),
            "camera_name": str(data.get("camera_name", "")),
            "k": [float(v) for v in data["camera_matrix"]["data"]],
            "distortion_model": str(data.get("distortion_model", "plumb_bob")),
            "d": [float(v) for v in data.get("distortion_coefficients", {}).get("data", [])],
            "r": [float(v) for v in data.get("rectification_matrix", {}).get(
                "data", [1, 0, 0, 0, 1, 0, 0, 0, 1])],
            "p": [float(v) for v in data.get("projection_matrix", {}).get("data", [])],
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise SourceError(f"camera_info_url '{url}': missing or bad field: {exc}") from exc
    if len(out["k"]) != 9 or len(out["r"]) != 9:
        raise SourceError(f"camera_info_url '{url}': camera_matrix and rectification_matrix "
                          "need 9 values")
    if not out["p"]:
        k = out["k"]
        out["p"] = [k[0], k[1], k[2], 0.0, k[3], k[4], k[5], 0.0, k[6], k[7], k[8], 0.0]
    if len(out["p"]) != 12:
        raise SourceError(f"camera_info_url '{url}': projection_matrix needs 12 values")
    return out
