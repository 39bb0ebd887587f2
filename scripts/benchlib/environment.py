"""Where the bench runs: paths, the process environment of the runs, the machine.

:func:`prepare` is the one place that changes the environment; both CLIs call it first,
before anything imports rclpy, so the node processes they start inherit it.
"""

from __future__ import annotations

import os
import platform
import random
import sys
from pathlib import Path

from benchlib.processes import exit_on_sigterm

REPO = Path(__file__).resolve().parents[2]
OUT_DIR = REPO / "bench_out"          # git-ignored: clips, logs, reports
# The reports name the commit as training.provenance.git_commit(REPO, **REPORT_COMMIT) gives
# it: 10 digits, '-dirty' for any uncommitted change in the tree.
REPORT_COMMIT = {"paths": (), "abbrev": 10}


def prepare() -> None:
    """Isolate the runs and use this source tree.

    Own DDS domain (a random ``ROS_DOMAIN_ID`` unless the caller chose one) with discovery on
    this host only, so concurrent runs never see each other's topics; TensorFlow's C++ log
    quiet; the repository first on ``sys.path`` (the node processes run ``python -m`` from it);
    SIGTERM stops the script's node processes (:func:`.processes.exit_on_sigterm`).
    """
    exit_on_sigterm()
    os.environ.setdefault("ROS_DOMAIN_ID", str(random.SystemRandom().randint(120, 200)))
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))


def log(msg: str) -> None:
    """Progress goes to stderr; the report goes to stdout."""
    print(msg, file=sys.stderr, flush=True)


def machine_info() -> dict[str, object]:
    """What the numbers were measured on."""
    from training.provenance import cpu_info  # after prepare(): the repository on sys.path

    info: dict[str, object] = {
        **cpu_info(),
        "logical_cpus": os.cpu_count(),
        "machine": platform.machine(),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }
    try:
        import psutil

        info["physical_cores"] = psutil.cpu_count(logical=False)
        info["memory_gib"] = round(psutil.virtual_memory().total / 2**30, 1)
        try:
            info["cpu_affinity"] = len(psutil.Process().cpu_affinity())
        except (AttributeError, OSError):
            pass
    except ImportError:
        pass
    info["load_average"] = load_average()
    return info


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []
