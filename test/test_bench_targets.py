"""scripts/bench.py target verdicts: which runs count as meeting the throughput/latency targets."""

import importlib.util
import sys
from pathlib import Path

SPEC = importlib.util.spec_from_file_location(
    "fer_bench", Path(__file__).resolve().parents[1] / "scripts" / "bench.py")
bench = importlib.util.module_from_spec(SPEC)
sys.modules[SPEC.name] = bench          # dataclasses look their module up
SPEC.loader.exec_module(bench)


def run(mode, faces, rate, fps, p95, camera_fps=None):
    return {"name": f"{mode} | {faces} | {rate or 'max'}", "mode": mode, "clip": f"{faces} f",
            "faces_in_clip": faces, "rate": "max" if rate is None else f"{rate:g} fps",
            "camera_rate": rate, "fps": fps,
            "camera_fps": camera_fps if camera_fps is not None else (rate or 400.0),
            "latency": {"p95_ms": p95}}


def test_fixed_rate_kept_up_meets_the_target():
    verdicts = bench.target_verdicts([run("processes", 1, None, 33.3, 104.6),
                                      run("processes", 1, 60.0, 60.0, 23.0),
                                      run("processes", 1, 30.0, 30.0, 19.8)])
    assert len(verdicts) == 1 and verdicts[0]["ok"]
    assert verdicts[0]["run"] == "processes | 1 | 60.0" and verdicts[0]["fps"] == 60.0


def test_slow_latency_or_dropping_or_low_rate_misses():
    assert not bench.target_verdicts([run("processes", 1, 60.0, 60.0, 25.1)])[0]["ok"]
    assert not bench.target_verdicts([run("processes", 1, 60.0, 54.5, 20.0)])[0]["ok"]
    assert not bench.target_verdicts([run("processes", 1, 30.0, 30.0, 15.0)])[0]["ok"]
    assert not bench.target_verdicts([run("pipeline", 1, None, 59.0, 20.0)])[0]["ok"]


def test_max_rate_counts_and_modes_and_clips_are_separate():
    verdicts = bench.target_verdicts([run("pipeline", 1, None, 63.7, 24.0),
                                      run("pipeline", 5, None, 32.4, 60.8),
                                      run("pipeline", 5, 30.0, 30.0, 18.0)])
    assert [(v["clip"], v["target_fps"], v["ok"]) for v in verdicts] == \
        [("1 f", 60.0, True), ("5 f", 30.0, True)]
    assert verdicts[1]["run"] == "pipeline | 5 | 30.0"
