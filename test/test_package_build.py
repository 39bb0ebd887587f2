"""The ROS 2 user's path: `colcon build` of this repository in a fresh workspace.

Copies the package into <tmp>/ws/src/fer_ros, runs a plain `colcon build` against the ROS
prefix of the test environment (the PyPI ROS 2 wheels in the venv, or a sourced ROS
installation), then checks the install tree: executables in lib/fer_ros, launch/config/
models/msg in share/fer_ros, the ament index entry, package.xml, and that the generated
messages import and serialize in a process that only sourced install/setup.bash.

Slow (a full CMake build of the messages, ~1-3 min on 2 cores); it is the one test of the
colcon build. `make colcon-test` runs only this test.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = "fer_ros"
MESSAGES = ["FaceDetection", "FaceDetectionArray", "Emotion", "EmotionArray"]

# Not copied into the scratch workspace.
_IGNORE_TOP = {".venv", "venv", "build", "install", "log", ".git", "runs", "out", "dist"}


def _ignore(dirpath: str, names: list[str]) -> set[str]:
    ignored = {n for n in names if n in ("__pycache__", ".pytest_cache", ".hypothesis")}
    ignored |= {n for n in names if n.endswith((".pyc", ".egg-info"))}
    if pathlib.Path(dirpath).resolve() == REPO:
        ignored |= {n for n in names if n in _IGNORE_TOP}
    return ignored


def _find_colcon() -> str | None:
    here = pathlib.Path(sys.executable).parent / "colcon"
    if here.is_file():
        return str(here)
    return shutil.which("colcon")


def _ros_prefixes() -> list[str]:
    """ROS prefixes to build against: the wheels' prefix (sys.prefix) and/or a sourced ROS."""
    prefixes = []
    if (pathlib.Path(sys.prefix) / "share" / "ament_index" / "resource_index").is_dir():
        prefixes.append(sys.prefix)
    for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep):
        if p and p not in prefixes:
            prefixes.append(p)
    return prefixes


def _build_env(prefixes: list[str]) -> dict[str, str]:
    env = dict(os.environ)
    bindir = str(pathlib.Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bindir, env.get("PATH", "")])
    if sys.prefix != sys.base_prefix:
        env["VIRTUAL_ENV"] = sys.prefix  # FindPython3 then picks this interpreter
    env["AMENT_PREFIX_PATH"] = os.pathsep.join(prefixes)
    env["CMAKE_PREFIX_PATH"] = os.pathsep.join(
        prefixes + [p for p in env.get("CMAKE_PREFIX_PATH", "").split(os.pathsep) if p])
    env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", "2")
    env.pop("PYTHONPATH", None)
    return env


def _expected_executables() -> dict[str, str]:
    cmake = (REPO / "CMakeLists.txt").read_text()
    block = re.search(r"set\(FER_ROS_EXECUTABLES(.*?)\)", cmake, re.S).group(1)
    return dict(e.split("=", 1) for e in re.findall(r'"([^"]+)"', block))


def test_executable_lists_agree():
    """CMakeLists.txt (colcon), pyproject.toml (pip) and fer_ros.EXECUTABLES agree."""
    cmake_exes = _expected_executables()
    assert set(cmake_exes) == {"camera", "face_detector", "emotion", "annotator",
                               "pipeline", "demo"}
    # (no tomllib: the tests run on Python 3.10 too)
    section = (REPO / "pyproject.toml").read_text().split("[project.scripts]")[1].split("\n[")[0]
    scripts = dict(re.findall(r'^(\w+) = "([\w.:]+)"$', section, re.M))
    for name, target in cmake_exes.items():
        assert scripts[f"{PACKAGE}_{name}"] == target
    init = (REPO / PACKAGE / "__init__.py").read_text()
    for name, target in cmake_exes.items():
        assert f'"{name}": "{target}"' in init


def test_colcon_build_install_tree(tmp_path):
    colcon = _find_colcon()
    if colcon is None:
        reason = "colcon is not installed (pip install colcon-common-extensions colcon-ros)"
        print(f"SKIP: {reason}", file=sys.stderr)
        pytest.skip(reason)
    prefixes = _ros_prefixes()
    if not prefixes:
        reason = "no ROS 2 prefix: neither the ROS PyPI wheels nor a sourced ROS found"
        print(f"SKIP: {reason}", file=sys.stderr)
        pytest.skip(reason)

    ws = tmp_path / "ws"
    src_pkg = ws / "src" / PACKAGE  # a snapshot: the checks below compare against it
    shutil.copytree(REPO, src_pkg, ignore=_ignore)
    env = _build_env(prefixes)

    # 1. what a ROS user runs: no extra flags
    proc = subprocess.run(
        [colcon, "build", "--event-handlers", "console_direct+"],
        cwd=ws, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=1800)
    assert proc.returncode == 0, f"colcon build failed:\n{proc.stdout[-8000:]}"

    install = ws / "install"
    root = install / PACKAGE  # colcon's default isolated install layout
    assert root.is_dir(), sorted(p.name for p in install.iterdir())

    # 2. package.xml installed and valid
    from catkin_pkg.package import parse_package

    pkg = parse_package(str(root / "share" / PACKAGE / "package.xml"))
    pkg.validate()
    assert pkg.name == PACKAGE
    assert pkg.package_format == 3
    assert pkg.get_build_type() == "ament_cmake"
    assert "rosidl_interface_packages" in [g.name for g in pkg.member_of_groups]
    run_deps = {d.name for d in pkg.exec_depends + pkg.run_depends}
    assert {"rclpy", "sensor_msgs", "std_msgs", "rosidl_default_runtime"} <= run_deps
    assert (root / "share" / "ament_index" / "resource_index" / "packages" / PACKAGE).is_file()

    # 3. executables for `ros2 run fer_ros <name>`
    for name, target in _expected_executables().items():
        exe = root / "lib" / PACKAGE / name
        assert exe.is_file(), f"missing {exe}"
        assert os.access(exe, os.X_OK), f"not executable: {exe}"
        text = exe.read_text()
        assert text.startswith("#!") and "python" in text.splitlines()[0]
        module, func = target.split(":")
        assert f"from {module} import {func}" in text

    # 4. share/fer_ros data directories and message definitions
    share = root / "share" / PACKAGE
    for d in ("launch", "config", "models", "msg"):
        assert (share / d).is_dir(), f"missing {share / d}"
    for d in ("launch", "config", "models"):
        src = src_pkg / d
        for f in src.rglob("*"):
            if f.is_file() and f.name != ".gitkeep" and "__pycache__" not in f.parts:
                assert (share / d / f.relative_to(src)).is_file(), f"not installed: {f}"
    for m in MESSAGES:
        assert (share / "msg" / f"{m}.msg").is_file()

    # 5. generated messages + our Python package, in a process that only sourced the
    #    workspace (like a ROS user's shell), from outside the source tree
    data_dir = src_pkg / PACKAGE / "data"
    data_files = [f.relative_to(src_pkg / PACKAGE).as_posix() for f in data_dir.rglob("*")
                  if f.is_file() and "__pycache__" not in f.parts] if data_dir.is_dir() else []
    # entry-point modules that exist already (others write them in parallel)
    modules = [t.split(":")[0] for t in _expected_executables().values()]
    modules = [m for m in modules if (src_pkg / (m.replace(".", "/") + ".py")).is_file()]
    check = textwrap.dedent(f"""
        import importlib.util, pathlib, sys
        import fer_ros, fer_ros.msg
        from fer_ros.msg import {", ".join(MESSAGES)}
        from rclpy.serialization import serialize_message, deserialize_message
        install = pathlib.Path({str(install)!r}).resolve()
        pkg_dir = pathlib.Path(fer_ros.__file__).resolve().parent
        assert install in pkg_dir.parents, (pkg_dir, fer_ros.__path__)
        m = EmotionArray(class_names=["happy", "sad"])
        m.faces = [Emotion(face_id=3, label="happy", confidence=0.9, scores=[0.9, 0.1])]
        m.tracked_ids = [3]
        back = deserialize_message(serialize_message(m), EmotionArray)
        assert back.faces[0].label == "happy" and list(back.tracked_ids) == [3]
        f = FaceDetectionArray(image_width=640, image_height=480)
        f.faces = [FaceDetection(id=1, confirmed=True, score=0.5)]
        assert deserialize_message(serialize_message(f), FaceDetectionArray).faces[0].id == 1
        share = fer_ros.share_dir()
        assert share.resolve() == (install / "fer_ros" / "share" / "fer_ros").resolve(), share
        for rel in {data_files!r}:
            assert (pkg_dir / rel).is_file(), "package data not installed: " + rel
        for mod in {modules!r}:
            spec = importlib.util.find_spec(mod)
            assert spec is not None and install in pathlib.Path(spec.origin).resolve().parents, mod
        print("OK", fer_ros.__version__)
        """)
    shell = f'source "{install}/setup.bash" && exec "{sys.executable}" -c "$0"'
    # env still has the underlay (the ROS prefix) in AMENT_PREFIX_PATH, as after sourcing ROS
    proc = subprocess.run(["bash", "-c", shell, check], cwd=tmp_path, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=300)
    assert proc.returncode == 0 and "OK" in proc.stdout, proc.stdout[-8000:]
