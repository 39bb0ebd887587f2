"""Graph runs: the fer_ros graph started as it is deployed, measured from outside.

``processes`` = the four node processes (``python -m fer_ros.nodes.<x>_node --ros-args ...``,
or the console scripts with ``launcher="console"``), ``pipeline`` = the single-process
runner (``python -m fer_ros.pipeline``).  The camera plays the clip, looped, at the run's
rate; the measuring node (:mod:`benchlib.measurer`) and the process sampler run in this
process.  Per run (frames captured in the measurement window):

* results/s  = frames that produced an EmotionArray, per second;
* answered % = those / frames published (seen on camera_info or any later topic);
* latency    = EmotionArray receive time - header.stamp (capture), p50/p95/p99;
* stages     = capture->camera_info, capture->faces, faces->emotions, emotions->annotated;
* CPU %, RSS = per process (100 % = one core), this measuring process included.

After the window the camera is stopped and the graph drains; then the frame account
(:mod:`benchlib.frame_account`) sets the bench's whole-run counts from stamps next to the
nodes' own on /diagnostics, and the camera's statuses in the window give its achieved rate.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchlib import frame_account
from benchlib.environment import REPO
from benchlib.inputs import Clip
from benchlib.measurer import ANNOTATED_TOPICS, Measurer, measured_topics
from benchlib.metrics import StageTimes, latency_summary
from benchlib.sampler import ProcessSampler
from fer_ros.nodes import NODE_CLASSES

MAX_RATE = 1000.0            # camera fps parameter for "as fast as it can" (its maximum)
NODE_NAMES = tuple(NODE_CLASSES)
# The camera process holds its first frame until its image_raw subscribers (face_detector,
# annotator) have matched, as the single-process runner does: a frame sent before that is
# lost where no node can count it.
IMAGE_RAW_SUBSCRIBERS = 2
DRAIN_QUIET_S = 1.0           # drained: no frame or result arrived for this long
DRAIN_TIMEOUT_S = 15.0
FINAL_STATUS_TIMEOUT_S = 5.0  # a status published after the drain (default period: 1 s)
MODES = {"processes": "4 processes", "pipeline": "1 process"}


@dataclass
class RunSpec:
    mode: str                      # a key of MODES
    clip: Clip
    rate: float | None             # camera fps; None = as fast as it can
    model: Path
    params_file: Path | None       # node parameters (None: the nodes' defaults)
    detector: str | None = None    # None = the params file's
    seconds: float = 10.0
    warmup: float = 3.0
    namespace: str = "/fer_bench"
    launcher: str = "module"       # "module" (python -m, this source tree) | "console"
    annotated: str = "raw"

    @property
    def source(self) -> str:
        return str(self.clip.path)

    @property
    def rate_label(self) -> str:
        return "max" if self.rate is None else f"{self.rate:g} fps"

    @property
    def name(self) -> str:
        return f"{MODES[self.mode]} | {self.clip.label} | {self.rate_label}"


def _param(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def node_commands(spec: RunSpec) -> dict[str, list[str]]:
    """The command line of every process of the run."""
    fps = MAX_RATE if spec.rate is None else float(spec.rate)
    cam = {"source": spec.source, "fps": fps, "loop": True,
           "wait_for_subscribers": IMAGE_RAW_SUBSCRIBERS}
    params_file = str(spec.params_file) if spec.params_file else ""
    if spec.mode == "pipeline":
        cmd = ([str(Path(sys.prefix) / "bin" / "fer_ros_pipeline")]
               if spec.launcher == "console" else [sys.executable, "-m", "fer_ros.pipeline"])
        cmd += ["--source", spec.source, "--fps", repr(fps), "--loop", "--model",
                str(spec.model), "--namespace", spec.namespace,
                "--params-file", params_file]
        if spec.detector:
            cmd += ["--detector", spec.detector]
        for topic in measured_topics(spec.annotated):
            cmd += ["--wait-for", f"{topic}=1"]      # the measuring node sees every frame
        return {"pipeline": cmd}
    per_node: dict[str, dict[str, Any]] = {
        "camera": cam,
        "face_detector": {"detector": spec.detector} if spec.detector else {},
        "emotion": {"model_path": str(spec.model)},
        "annotator": {},
    }
    cmds = {}
    for name in NODE_NAMES:
        cmd = ([str(Path(sys.prefix) / "bin" / f"fer_ros_{name}")]
               if spec.launcher == "console"
               else [sys.executable, "-m", f"fer_ros.nodes.{name}_node"])
        cmd += ["--ros-args", "-r", f"__ns:={spec.namespace}"]
        if params_file:
            cmd += ["--params-file", params_file]
        for k, v in per_node[name].items():
            cmd += ["-p", f"{k}:={_param(v)}"]
        cmds[name] = cmd
    return cmds


class GraphRun:
    """Starts a run's processes and the measuring node; measures; stops everything."""

    def __init__(self, spec: RunSpec, log_dir: Path, sample_interval: float = 0.5) -> None:
        self.spec = spec
        self.sample_interval = sample_interval
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen] = {}
        self._logs: dict[str, Any] = {}
        self.measurer: Measurer | None = None
        self.sampler = ProcessSampler()
        self.sampler.add("bench", os.getpid(), children=False)
        self.exit_codes: dict[str, int | None] = {}

    # -- processes ---------------------------------------------------------------------------
    def _launch(self, name: str, cmd: list[str]) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        fh = open(self.log_dir / f"{name}.log", "w")
        fh.write("$ " + " ".join(cmd) + "\n")
        fh.flush()
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self._logs[name] = fh
        self.procs[name] = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=fh,
                                            stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        self.sampler.add(name, self.procs[name].pid)

    def log_tail(self, name: str, lines: int = 15) -> str:
        try:
            text = (self.log_dir / f"{name}.log").read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])

    def check_alive(self) -> None:
        for name, p in self.procs.items():
            if p.poll() is not None:
                raise RuntimeError(f"{name} exited with code {p.returncode} during "
                                   f"'{self.spec.name}'; its log ({self.log_dir / name}.log) "
                                   f"ends:\n{self.log_tail(name)}")

    def _wait(self, what: str, predicate, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            self.check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what} "
                                   f"('{self.spec.name}'; logs in {self.log_dir})")
            time.sleep(0.05)

    def start(self, ready_timeout: float = 120.0) -> None:
        """Launch the graph and return once the first EmotionArray has arrived."""
        self.measurer = Measurer(self.spec.namespace, self.spec.annotated)
        self.sampler.start(interval_s=self.sample_interval)
        cmds = node_commands(self.spec)
        if self.spec.mode == "pipeline":
            self._launch("pipeline", cmds["pipeline"])
        else:
            for name in ("face_detector", "emotion", "annotator"):
                self._launch(name, cmds[name])
            m = self.measurer
            need = {"image_raw": (0, 2), "faces": (1, 2), "emotions": (1, 2)}
            if ANNOTATED_TOPICS[self.spec.annotated]:
                need[ANNOTATED_TOPICS[self.spec.annotated]] = (1, 1)

            def connected() -> bool:
                return all(m.counts(t)[0] >= p and m.counts(t)[1] >= s
                           for t, (p, s) in need.items())

            self._wait("the detector, emotion and annotator nodes to connect", connected,
                       ready_timeout)
            self._launch("camera", cmds["camera"])
        self._wait("the first EmotionArray", self.measurer.first_result.is_set,
                   ready_timeout)

    def stop(self) -> None:
        """SIGINT every process (then SIGTERM, SIGKILL); close the measuring node."""
        for name in reversed(list(self.procs)):
            p = self.procs[name]
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGINT)
                except ProcessLookupError:
                    pass
        for sig, wait_s in ((signal.SIGTERM, 8.0), (signal.SIGKILL, 3.0)):
            deadline = time.monotonic() + wait_s
            for p in self.procs.values():
                try:
                    p.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass
            for p in self.procs.values():
                if p.poll() is None:
                    try:
                        os.killpg(p.pid, sig)
                    except ProcessLookupError:
                        pass
        for p in self.procs.values():
            try:
                p.wait(timeout=3.0)
            except subprocess.TimeoutExpired:
                pass
        self.exit_codes = {n: p.returncode for n, p in self.procs.items()}
        self.sampler.stop()
        for fh in self._logs.values():
            fh.close()
        if self.measurer is not None:
            self.measurer.close()

    def stop_camera_and_drain(self) -> str | None:
        """Stop the camera and wait until no frame or result arrived for DRAIN_QUIET_S;
        None once drained, else why not."""
        why = self.measurer.stop_camera()
        if why is not None:
            time.sleep(DRAIN_QUIET_S)      # the window's last results still arrive
            return f"could not stop the camera: {why}"
        st = self.measurer.stages
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        seen, quiet_since = None, time.monotonic()
        while time.monotonic() < deadline:
            self.check_alive()
            now = (st.count(), st.frames("emotions"), st.frames("annotated"))
            if now != seen:
                seen, quiet_since = now, time.monotonic()
            elif time.monotonic() - quiet_since >= DRAIN_QUIET_S:
                return None
            time.sleep(0.05)
        return f"frames or results still arriving {DRAIN_TIMEOUT_S:g} s after the camera stop"

    def final_statuses(self, after_ns: int) -> dict[str, dict[str, str] | None]:
        """Per node of the account, its first /diagnostics status stamped at or after
        ``after_ns`` (None: none came within FINAL_STATUS_TIMEOUT_S)."""
        deadline = time.monotonic() + FINAL_STATUS_TIMEOUT_S

        def first_after(name: str) -> dict[str, str] | None:
            return next((s.values for s in self.measurer.node_statuses(name)
                         if s.stamp_ns >= after_ns), None)
        while time.monotonic() < deadline and \
                any(first_after(n) is None for n in frame_account.ACCOUNT_NODES):
            time.sleep(0.05)
        return {n: first_after(n) for n in frame_account.ACCOUNT_NODES}

    def account(self, drain_problem: str | None) -> dict[str, Any]:
        """The frame account of the whole run (call after :meth:`stop_camera_and_drain`)."""
        st = self.measurer.stages
        out = frame_account.compare(st.count(), st.frames("emotions"),
                                    self.final_statuses(time.time_ns()),
                                    drained=drain_problem is None)
        if drain_problem is not None:
            out["differences"].append(drain_problem)
        return out

    # -- results -----------------------------------------------------------------------------
    def result(self, t0_ns: int, t1_ns: int, m0: float, m1: float) -> dict[str, Any]:
        """Everything measured for frames captured in [t0_ns, t1_ns) (wall clock) and for
        the processes over [m0, m1] (monotonic)."""
        st = self.measurer.stages
        seconds = (t1_ns - t0_ns) / 1e9
        S = StageTimes.STAMP
        # Published frames: stamps seen on any topic (camera_info can be lost by a starved
        # measuring node: the camera's KEEP_LAST writer overwrites unacknowledged samples).
        cam = st.count(t0_ns, t1_ns)
        done = st.frames("emotions", t0_ns, t1_ns)
        info_lost = st.missing("emotions", "camera", t0_ns, t1_ns)
        faces = [n for s, n in list(self.measurer.faces_per_frame.items())
                 if t0_ns <= s < t1_ns]

        def lat(a, b):
            return latency_summary(st.stage_latencies(a, b, t0_ns, t1_ns))

        procs = {}
        for name in self.sampler.names:
            procs[name] = {"cpu_percent": self.sampler.cpu_percent(name, m0, m1),
                           **self.sampler.rss_stats(name, m0, m1)}
        return {
            "name": self.spec.name, "mode": self.spec.mode, "graph": MODES[self.spec.mode],
            "clip": self.spec.clip.key,
            "clip_label": self.spec.clip.label, "faces_in_clip": self.spec.clip.faces,
            "rate": self.spec.rate_label,
            "camera_rate": self.spec.rate,
            "source": self.spec.source, "model": str(self.spec.model),
            "seconds": seconds,
            "camera_fps": cam / seconds,
            "fps": done / seconds,
            "frames_published": cam,
            "frames_with_result": done,
            "dropped": cam - done,
            "drop_percent": 100.0 * (cam - done) / cam if cam else float("nan"),
            "answered_percent": 100.0 * done / cam if cam else float("nan"),
            "camera_info_missed_by_bench": info_lost,
            "faces_per_frame": float(np.mean(faces)) if faces else float("nan"),
            "latency": lat(S, "emotions"),
            "stages": {
                "capture->camera_info": lat(S, "camera"),
                "capture->faces": lat(S, "faces"),
                "faces->emotions": lat("faces", "emotions"),
                "emotions->annotated": lat("emotions", "annotated"),
                "capture->annotated": lat(S, "annotated"),
            },
            "annotated_frames": st.frames("annotated", t0_ns, t1_ns),
            "bench_callback_delay": self.measurer.callback_delay.summary(t0_ns / 1e9,
                                                                         t1_ns / 1e9 + 5),
            "processes": procs,
        }


def run_graph(spec: RunSpec, log_dir: Path) -> dict[str, Any]:
    """One measured run: start, warm up, measure ``spec.seconds``, stop the camera, drain,
    read the frame account, stop."""
    run = GraphRun(spec, log_dir)
    try:
        run.start()
        time.sleep(spec.warmup)
        run.check_alive()
        t0, m0 = time.time_ns(), time.monotonic()
        time.sleep(spec.seconds)
        t1, m1 = time.time_ns(), time.monotonic()
        run.check_alive()
        drain_problem = run.stop_camera_and_drain()
        res = run.result(t0, t1, m0, m1)
        res["camera"] = frame_account.camera_rate(run.measurer.node_statuses("camera"),
                                                  t0, t1)
        res["frame_account"] = run.account(drain_problem)
    finally:
        run.stop()
    res["exit_codes"] = run.exit_codes
    res["load_average"] = list(os.getloadavg())
    return res
