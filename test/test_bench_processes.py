"""benchlib.processes: a bench script killed with SIGTERM still stops the processes it
started (they run in sessions of their own, out of reach of the signals sent to it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"

# Starts a long child in its own session, as benchlib.graph starts the nodes, prints its pid,
# and stops it in a finally block.  argv[1]: "prepare" calls environment.prepare() first.
SCRIPT = """
import subprocess, sys, time
sys.path.insert(0, sys.argv[2])
from benchlib import environment
from benchlib.processes import stop_processes
if sys.argv[1] == "prepare":
    environment.prepare()
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                         start_new_session=True)
print(child.pid, flush=True)
try:
    time.sleep(60)
finally:
    stop_processes([child], timeout_s=5)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by init) counts as gone
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"


def _kill_script(mode: str) -> tuple[int, int]:
    """(the script's exit code after SIGTERM, its child's pid)."""
    script = subprocess.Popen([sys.executable, "-c", SCRIPT, mode, str(SCRIPTS)],
                              stdout=subprocess.PIPE, text=True)
    child = int(script.stdout.readline())
    script.send_signal(signal.SIGTERM)
    code = script.wait(timeout=20)
    return code, child


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux)")
def test_sigterm_runs_the_finally_blocks_that_stop_the_nodes():
    code, child = _kill_script("prepare")
    assert code == 128 + signal.SIGTERM
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux)")
def test_without_prepare_sigterm_leaves_the_child_running():
    # the failure the handler exists for: Python's default SIGTERM skips finally blocks
    code, child = _kill_script("plain")
    try:
        assert code == -signal.SIGTERM
        time.sleep(0.3)
        assert _alive(child)
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)
