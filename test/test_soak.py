"""Soak test, CI version: scripts/soak.py --seconds 60 on the real graph must pass.

Runs the four node processes for 60 s at 30 fps on a rendered one-face clip (about 65-75 s
in all) and checks the soak verdict: RSS growth < 5 % per process after the warm-up, p95
latency drift <= 20 %, no process exits, results in every window.  The 10-minute version is
``python scripts/soak.py --seconds 600 --fps 30`` (see docs/BENCH.md).

Select or skip it with ``-k soak`` / ``-k 'not soak'``, or set FER_ROS_SKIP_SOAK=1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SECONDS = 60


@pytest.mark.skipif(os.environ.get("FER_ROS_SKIP_SOAK", "") not in ("", "0"),
                    reason="FER_ROS_SKIP_SOAK is set")
def test_soak_60s_passes(tmp_path, emotion_model):
    out = tmp_path / "soak.json"
    cmd = [sys.executable, str(REPO / "scripts" / "soak.py"), "--seconds", str(SECONDS),
           "--fps", "30", "--model", str(emotion_model), "--json", str(out),
           "--log-dir", str(tmp_path / "logs")]
    # The environment (ROS_DOMAIN_ID chosen per test session in conftest.py, localhost-only
    # discovery) is inherited: the soak's graph cannot meet another run's topics.
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=SECONDS + 240)
    report = json.loads(out.read_text()) if out.is_file() else {}
    detail = (f"soak.py exit code {proc.returncode}\n--- stdout ---\n{proc.stdout[-6000:]}\n"
              f"--- stderr ---\n{proc.stderr[-4000:]}")
    assert proc.returncode == 0, detail
    assert report.get("passed") is True, detail

    # It really measured the graph: every node process sampled, windows full of results.
    rss = report["rss"]
    for name in ("camera", "face_detector", "emotion", "annotator"):
        assert rss[name]["baseline_mib"] > 20, (name, rss[name])
        assert abs(rss[name]["growth_percent"]) < 5.0, (name, rss[name])
    windows = report["windows"]
    assert len(windows) >= 5
    assert all(w["fps"] > 0 and w["p95_ms"] > 0 for w in windows)
    assert report["latency"]["n"] >= 15 * (SECONDS - report["warmup"])
    assert report["p95_drift"]["drift_vs_slack"] <= 0.20
    assert report["exit_codes"] and all(c is not None for c in report["exit_codes"].values())
