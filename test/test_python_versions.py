"""Every module of the package, its launch files, scripts, training code and tests runs on
Python 3.10 (ROS 2 Humble's Python; Jazzy has 3.12, Kilted 3.12): checked with vermin, which
reports the minimum Python version each file needs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DIRS = ["fer_ros", "launch", "scripts", "training", "test"]


def test_every_module_runs_on_python_3_10():
    pytest.importorskip("vermin", reason="vermin (requirements-test.txt) checks the versions")
    out = subprocess.run(
        [sys.executable, "-c", "import sys, vermin; sys.exit(vermin.main())", "--no-tips",
         "--violations", "--eval-annotations", "--target=3.10-", *[str(REPO / d) for d in DIRS]],
        capture_output=True, text=True, timeout=300)
    files = int(out.stdout.split("Analyzing ")[1].split(" files")[0])
    assert files > 50, out.stdout            # it did look at the tree
    assert "Target versions not met" not in out.stdout, out.stdout
    assert out.returncode == 0, out.stdout + out.stderr
