"""Which code produced a run, a model or a benchmark: the git commit of this repository.

The one home of this rule: training (model cards, training state) and the bench and soak
scripts (their reports) all call :func:`git_commit`.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
#: what training code consists of: a change there makes a training run's commit dirty
TRAINING_PATHS = ("training", "fer_ros")


def git_commit(repo: Path = REPOSITORY, paths: Sequence[str] = TRAINING_PATHS,
               abbrev: int | None = None) -> str:
    """``<sha>[-dirty]``: the commit the repository is at (the full sha, or its first
    ``abbrev`` digits), with '-dirty' if ``paths`` (empty: the whole tree) have uncommitted
    changes, untracked files included; 'unknown' outside a git checkout."""
    rev = ["rev-parse", "HEAD"] if abbrev is None else ["rev-parse", f"--short={abbrev}",
                                                        "HEAD"]
    try:
        commit = subprocess.run(["git", "-C", str(repo), *rev], check=True,
                                capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--",
                                *paths], capture_output=True, text=True,
                               timeout=10).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
