"""Profiles of a graph run with py-spy (not a project dependency: ``pip install py-spy``,
or ``PY_SPY=/path/to/py-spy``), summarised per process: where the samples' time went by
category (LiteRT inference, rclpy publish/take, executor, message classes, fer_ros code),
then the top functions by inclusive and by self share.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchlib.graph import GraphRun, RunSpec


def find_py_spy() -> str | None:
    for cand in (os.environ.get("PY_SPY"), shutil.which("py-spy"),
                 str(Path(sys.prefix) / "bin" / "py-spy")):
        if cand and Path(cand).is_file() and os.access(cand, os.X_OK):
            return cand
    return None


# Frames that only say "a thread / the executor is running something": left out of the
# inclusive list (they would top it in every process).  Self time still shows them.
_GENERIC_FILES = {"threading.py", "thread.py", "<frozen runpy>", "task.py", "_base.py",
                  "executors.py"}
_GENERIC_FUNCS = {"<module>", "main", "run", "app", "spin_node", "spin", "Pipeline.spin"}
# Leaf frames where a thread waits (for work, a lock, the wait set): "idle" in the summary.
_WAIT_LEAVES = {"_worker (thread.py)", "wait (threading.py)", "_wait_for_tstate_lock "
                "(threading.py)", "Executor._wait_for_ready_callbacks (executors.py)"}


_EXECUTOR_FILES = {"executors.py", "contextlib.py", "event_handler.py", "task.py",
                   "callback_groups.py", "guard_condition.py", "context.py", "_base.py",
                   "thread.py", "threading.py", "timer.py", "clock.py", "waitable.py",
                   "utilities.py", "signals.py", "queue.py"}


def _category(name: str, loc: str, path: str) -> str:
    """Coarse bucket of a leaf frame (where the sample's time was spent)."""
    path = "/" + path.lstrip("/")   # py-spy writes paths relative to sys.path entries
    if loc == "executors.py" and name.startswith("Executor._take_"):
        return "rclpy take (DDS take + conversion to Python message)"
    if loc == "publisher.py":
        return "rclpy publish (conversion + serialisation + DDS write)"
    if loc in _EXECUTOR_FILES:
        return "rclpy executor (wait set, scheduling, futures) and thread pool"
    if loc == "interpreter.py":
        return "LiteRT Interpreter.invoke (inference)"
    if "/msg/_" in path:
        return "ROS message classes (constructors, field setters)"
    if "/rclpy/" in path:
        return "rclpy, other (node, parameters, services, time)"
    if "/fer_ros/" in path:
        return "fer_ros code (own lines: NumPy/OpenCV calls, Python loops)"
    if "numpy" in path or "cv2" in path:
        return "NumPy / OpenCV (Python side)"
    return "other"


def summarize_collapsed(path: Path, top: int = 12) -> dict[str, Any]:
    """Top functions (inclusive and self %) from py-spy's raw (collapsed-stack) output.

    Inclusive leaves out generic frames (thread pool, executor, main); ``waiting`` is the
    share of samples whose leaf is a wait (thread pool idle, rclpy wait set): py-spy counts
    such threads as active, so the remaining percentages are of the whole, not of CPU time.
    """
    total = 0
    incl: dict[str, int] = {}
    self_: dict[str, int] = {}
    cats: dict[str, int] = {}
    waiting = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = []
        for fr in stack.split(";"):
            fr = fr.strip()
            if fr.startswith(("process ", "thread ")):
                continue
            # "func (path/file.py:123)" -> ("func", "file.py")
            name, _, loc = fr.partition(" (")
            full = loc.rstrip(")").rsplit(":", 1)[0] if loc else ""
            frames.append((name, Path(full).name if full else "", full))
        if not frames:
            continue
        leaf = f"{frames[-1][0]} ({frames[-1][1]})"
        self_[leaf] = self_.get(leaf, 0) + n
        if leaf in _WAIT_LEAVES:
            waiting += n
        else:
            c = _category(*frames[-1])
            cats[c] = cats.get(c, 0) + n
        for name, loc, _ in set(frames):
            if loc in _GENERIC_FILES or name in _GENERIC_FUNCS:
                continue
            key = f"{name} ({loc})"
            incl[key] = incl.get(key, 0) + n

    def table(d):
        return [(f, 100.0 * c / total) for f, c in
                sorted(d.items(), key=lambda kv: -kv[1])[:top]] if total else []

    return {"samples": total, "waiting_percent": 100.0 * waiting / total if total else None,
            "categories": table(cats), "inclusive": table(incl), "self": table(self_)}


def profile_graph(spec: RunSpec, log_dir: Path, py_spy: str, rate_hz: int = 100,
                  gil: bool = False) -> dict[str, Any]:
    """Run the graph and record every process with py-spy for spec.seconds.

    ``gil``: only sample threads that hold the GIL (= where the Python-level CPU goes; time
    in C code that released the GIL, e.g. TFLite inference, is then not seen)."""
    run = GraphRun(spec, log_dir)
    out: dict[str, Any] = {"name": spec.name + (" [GIL holders only]" if gil else ""),
                           "processes": {}}
    spies = {}
    try:
        run.start()
        time.sleep(spec.warmup)
        for name, p in run.procs.items():
            f = log_dir / f"{name}.pyspy.txt"
            spies[name] = (f, subprocess.Popen(
                [py_spy, "record", "--pid", str(p.pid), "--duration", str(int(spec.seconds)),
                 "--rate", str(rate_hz), "--format", "raw", "--output", str(f),
                 "--nonblocking"] + (["--gil"] if gil else []),
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
        t0, m0 = time.time_ns(), time.monotonic()
        for name, (f, sp) in spies.items():
            try:
                _, err = sp.communicate(timeout=spec.seconds + 60)
            except subprocess.TimeoutExpired:
                sp.kill()
                err = "timed out"
            if f.is_file():
                out["processes"][name] = summarize_collapsed(f)
                out["processes"][name]["file"] = str(f)
            else:
                out["processes"][name] = {"error": (err or "")[-500:]}
        t1, m1 = time.time_ns(), time.monotonic()
        time.sleep(1.0)
        out["run_under_profiler"] = run.result(t0, t1, m0, m1)
    finally:
        run.stop()
    return out
