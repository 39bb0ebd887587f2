"""fer_ros: real-time facial-expression recognition for ROS 2.

The installed package combines this source tree with code generated at build time
(``fer_ros.msg`` and its type-support extension modules). When a process imports this
package from the source checkout (e.g. ``python -m fer_ros.demo`` run from the repository
root, or pytest with the repository on ``sys.path``), ``__path__`` is extended below with
every other ``fer_ros`` directory on ``sys.path``, so ``fer_ros.msg`` is still found in the
installed copy while the source modules take precedence. Keep this module light: it must
not import ROS, NumPy, OpenCV or TensorFlow.
"""

from __future__ import annotations

import os
import pathlib
import pkgutil
import sys

__path__ = pkgutil.extend_path(__path__, __name__)

PACKAGE_NAME = "fer_ros"

try:  # version of the installed distribution (pip or colcon egg-info)
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as _dist_version

    __version__ = _dist_version(PACKAGE_NAME)
except PackageNotFoundError:  # running from an uninstalled tree
    __version__ = "0.0.0"

# Executables: name -> "module:function". `ros2 run fer_ros <name>` (colcon install,
# lib/fer_ros/<name>), `fer_ros_<name>` console scripts in a pip/venv install, and
# `fer_ros <name>` (see main() below) all run these. Keep in sync with CMakeLists.txt and
# pyproject.toml (checked by test/test_package_build.py).
EXECUTABLES = {
    "camera": "fer_ros.nodes.camera_node:main",
    "face_detector": "fer_ros.nodes.face_detector_node:main",
    "emotion": "fer_ros.nodes.emotion_node:main",
    "annotator": "fer_ros.nodes.annotator_node:main",
    "pipeline": "fer_ros.pipeline:main",
    "demo": "fer_ros.demo:main",
}


def share_dirs() -> list[pathlib.Path]:
    """Candidate ``share/fer_ros`` directories, most specific first, without duplicates
    (they need not exist): $FER_ROS_SHARE_DIR, the ament index, ``<install prefix>/share/
    fer_ros``, the source checkout."""
    dirs = []
    env = os.environ.get("FER_ROS_SHARE_DIR")
    if env:
        dirs.append(pathlib.Path(env))
    # 1. ament index (colcon install / sourced ROS workspace)
    try:
        from ament_index_python.packages import get_package_share_directory

        dirs.append(pathlib.Path(get_package_share_directory(PACKAGE_NAME,
                                                             print_warning=False)))
    except Exception:  # noqa: BLE001 - not in an ament prefix (or no ament_index_python)
        pass
    # 2. prefix of the installed Python package: <prefix>/lib/pythonX.Y/site-packages/fer_ros
    #    -> <prefix>/share/fer_ros (pip install into a venv, colcon install without sourcing)
    for entry in __path__:
        p = pathlib.Path(entry).resolve()
        if len(p.parents) > 3:
            dirs.append(p.parents[3] / "share" / PACKAGE_NAME)
    dirs.append(pathlib.Path(sys.prefix) / "share" / PACKAGE_NAME)
    # 3. source checkout: the repository root holds launch/, config/, models/
    for entry in __path__:
        root = pathlib.Path(entry).resolve().parent
        if (root / "package.xml").is_file():
            dirs.append(root)
    return list(dict.fromkeys(dirs))


def share_dir() -> pathlib.Path:
    """Directory holding ``launch/``, ``config/`` and ``models/`` of this package: the first
    of :func:`share_dirs` that exists. Raises FileNotFoundError if none exists."""
    candidates = share_dirs()
    for cand in candidates:
        if cand.is_dir():
            return cand
    raise FileNotFoundError(f"share directory of {PACKAGE_NAME} not found; tried: "
                            f"{[str(c) for c in candidates]}")


def share_path(*parts: str) -> pathlib.Path:
    """``share_dir() / parts``, e.g. ``share_path("models", "emotion_cnn.tflite")``."""
    return share_dir().joinpath(*parts)


def main(argv=None) -> int:
    """``fer_ros <executable> [args...]``: run one of EXECUTABLES (like ``ros2 run``)."""
    import importlib

    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in EXECUTABLES:
        out = sys.stdout if argv and argv[0] in ("-h", "--help") else sys.stderr
        print(f"usage: {PACKAGE_NAME} <executable> [args...]\nexecutables: "
              + ", ".join(EXECUTABLES), file=out)
        return 0 if out is sys.stdout else 2
    module_name, func_name = EXECUTABLES[argv[0]].split(":")
    return getattr(importlib.import_module(module_name), func_name)(argv[1:])
