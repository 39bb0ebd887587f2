"""Which code produced a run or a model: the git commit of this repository."""

import subprocess
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent


def git_commit(repo: Path = REPOSITORY) -> str:
    """The commit the repository is at, with '-dirty' if it has uncommitted changes."""
    try:
        commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], check=True,
                                capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--",
                                "training", "fer_ros"], capture_output=True,
                               text=True).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
