"""Ending the node processes a script or test started (no psutil: usable in the runtime venv)."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterable


def exit_on_sigterm() -> None:
    """From now on SIGTERM ends this script as Ctrl-C does, through its ``finally`` blocks
    (which stop the node processes it started): without it a ``kill`` of a bench or soak run
    leaves its nodes running (they are in sessions of their own), loading the CPU of every
    later measurement."""
    signal.signal(signal.SIGTERM, _raise_exit)


def _raise_exit(signum, frame) -> None:
    raise SystemExit(128 + signum)


def stop_processes(procs: Iterable[subprocess.Popen], timeout_s: float = 10.0) -> None:
    """SIGINT every process still running (a ROS node's clean shutdown) and wait for each.
    One still there after ``timeout_s`` gets SIGUSR1 (a fer_ros executable then prints the
    stack of every thread to its stderr: where its clean-up is stuck), then SIGKILL."""
    procs = list(procs)
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
    for p in procs:
        try:
            p.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGUSR1)
            time.sleep(1.0)
            p.kill()
            p.wait()
