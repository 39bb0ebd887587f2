"""Every executable ends the same way (fer_ros.nodes.runner): 0 on a normal end and on
Ctrl-C, 1 with a one-line reason when it cannot start. Real processes, real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from conftest import REPO


def start(*args):
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, *args], cwd=str(REPO), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def kill_if_running(proc):
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def wait_for_line(proc, text, timeout):
    """Read stdout until a line holds ``text`` (True) or the process ends / time is up."""
    found = threading.Event()

    def read():
        for line in proc.stdout:
            if text in line:
                found.set()
    threading.Thread(target=read, daemon=True).start()
    return found.wait(timeout)


@pytest.mark.parametrize("args, running", [
    (["-m", "fer_ros.demo", "--fps", "3", "--output", ""], "faces:"),
    (["-m", "fer_ros.pipeline", "--fps", "3"], None),
])
def test_ctrl_c_ends_with_exit_code_0(args, running, emotion_model):
    proc = start(*args, "--model", str(emotion_model))
    try:
        if running:
            assert wait_for_line(proc, running, timeout=120), proc.stderr.read()[-3000:]
        else:
            time.sleep(15.0)            # model loaded and spinning (or failed: checked below)
        assert proc.poll() is None, proc.stderr.read()[-3000:]
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    finally:
        kill_if_running(proc)
    err = proc.stderr.read()
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in err, err[-3000:]


@pytest.mark.parametrize("command", [
    ["-m", "fer_ros.demo", "--source", "/nonexistent/clip.mp4"],
    ["-c", "import fer_ros, sys; sys.exit(fer_ros.main(['camera', '--ros-args', '-p', "
           "'source:=/nonexistent/clip.mp4']))"],
])
def test_cannot_start_is_exit_code_1_with_the_reason(command):
    proc = start(*command)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err[-3000:]
    assert "cannot start" in err and "/nonexistent/clip.mp4" in err
    assert "Traceback" not in out + err


def start_executable(executable):
    """One fer_ros executable with stdout and stderr read into a list of lines as they come
    by a thread (join it once the process has ended, to have them all)."""
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-c", f"import fer_ros, sys; sys.exit(fer_ros.main(['{executable}']))"],
        cwd=str(REPO), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []

    def read():
        for line in proc.stdout:
            lines.append(line)
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return proc, lines, reader


def wait_for_text(lines, text, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(text in line for line in list(lines)):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("executable, running", [
    ("camera", "publishing"),
    ("face_detector", "active"),
    ("emotion", "active"),
    ("annotator", "drawing"),
])
def test_repeated_ctrl_c_ends_cleanly(executable, running):
    """A terminal Ctrl-C under `ros2 launch` signals the whole process group, then launch
    sends SIGINT again: a burst of SIGINTs while the node ends must still give exit code 0,
    no traceback and no KeyboardInterrupt (before, "exit code -2" in 4 of 6 launches)."""
    proc, lines, reader = start_executable(executable)
    try:
        assert wait_for_text(lines, running, 120), "".join(lines)[-3000:]
        time.sleep(1.0)                 # spinning
        deadline = time.monotonic() + 3.0
        while proc.poll() is None and time.monotonic() < deadline:
            proc.send_signal(signal.SIGINT)
            time.sleep(0.005)
        proc.wait(timeout=30)
    finally:
        kill_if_running(proc)
    reader.join(5)
    out = "".join(lines)
    assert proc.returncode == 0, out[-3000:]
    assert "Traceback" not in out and "KeyboardInterrupt" not in out, out[-3000:]


def test_an_error_from_a_context_already_shut_down_is_a_normal_end():
    """The Ctrl-C race seen under ros2 launch: rclpy's signal handler shuts the context down
    while the executor builds its wait set, which raises RCLError before Python has run the
    runner's SIGINT handler. The same error with the context still up is a real failure."""
    from rclpy._rclpy_pybind11 import RCLError

    from fer_ros.nodes.runner import run

    def shut_down_then_fail(argv):
        import rclpy
        rclpy.shutdown()
        raise RCLError("failed to initialize wait set: the given context is not valid")

    def fail(argv):
        raise RCLError("a real failure")

    assert run("race", shut_down_then_fail, []) == 0
    with pytest.raises(RCLError, match="a real failure"):
        run("failure", fail, [])


def test_sigusr1_prints_every_thread_stack_and_the_node_goes_on():
    """``kill -USR1 PID`` shows where a node is (how a stuck clean-up is diagnosed); the
    node keeps running and still ends with exit code 0 on Ctrl-C."""
    proc, lines, reader = start_executable("annotator")
    try:
        assert wait_for_text(lines, "drawing", 120), "".join(lines)[-3000:]
        proc.send_signal(signal.SIGUSR1)
        assert wait_for_text(lines, "in spin", 30), "".join(lines)[-3000:]
        time.sleep(0.5)
        assert proc.poll() is None, "".join(lines)[-3000:]
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    finally:
        kill_if_running(proc)
    reader.join(5)
    assert proc.returncode == 0, "".join(lines)[-3000:]


@pytest.mark.parametrize("stderr, block_s, exit_code", [("kept", 0.0, 0), ("kept", 60.0, 1),
                                                       ("None", 0.0, 0)])
def test_a_cleanup_past_its_limit_ends_the_process_with_the_stacks(stderr, block_s, exit_code):
    """cleanup_limit: a tear-down stuck past the limit (here a sleep; in the field Fast DDS
    spinning inside rcl_node_fini) ends the process with exit code 1 and every thread's stack;
    one that ends in time leaves the process running past the limit, also without stderr."""
    code = ("import sys, time\nfrom fer_ros.nodes.runner import cleanup_limit\n"
            f"sys.stderr = {'None' if stderr == 'None' else 'sys.stderr'}\n"
            f"with cleanup_limit(1.0):\n    time.sleep({block_s})\n"
            "time.sleep(2.0)\nprint('went on')\n")
    t0 = time.monotonic()
    out = subprocess.run([sys.executable, "-c", code], cwd=str(REPO), capture_output=True,
                         text=True, timeout=60, env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert out.returncode == exit_code, out.stderr[-3000:]
    if exit_code:
        assert time.monotonic() - t0 < 30
        assert "Timeout" in out.stderr and "line 5 in <module>" in out.stderr, out.stderr
    else:
        assert out.stdout.strip() == "went on"
