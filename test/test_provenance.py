"""training.provenance.git_commit: the one commit rule of training cards and bench reports."""

from __future__ import annotations

import re
import subprocess

import pytest

from training.provenance import git_commit


def git(repo, *args):
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t",
                    *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path):
    for folder in ("training", "fer_ros", "scripts"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "a.py").write_text("x = 1\n")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "one")
    return tmp_path


def test_a_clean_checkout_gives_the_full_sha(repo):
    assert re.fullmatch(r"[0-9a-f]{40}", git_commit(repo))
    assert re.fullmatch(r"[0-9a-f]{10}", git_commit(repo, paths=(), abbrev=10))


def test_dirty_means_a_change_in_the_paths_given(repo):
    sha = git_commit(repo)
    (repo / "scripts" / "a.py").write_text("x = 2\n")
    assert git_commit(repo) == sha                       # training: outside its code
    assert git_commit(repo, paths=(), abbrev=10) == sha[:10] + "-dirty"   # bench: anything
    (repo / "training" / "new.py").write_text("")        # untracked training code counts
    assert git_commit(repo) == sha + "-dirty"


def test_outside_a_checkout_it_is_unknown(tmp_path):
    assert git_commit(tmp_path) == "unknown"
