"""Which code and which CPU produced a run, a model's figures or a benchmark.

The one home of these rules: training (model cards, training state) and the bench and soak
scripts (their reports) call :func:`git_commit` for the commit of this repository and
:func:`cpu_info` / :func:`cpu_text` for the CPU an absolute figure holds on.
"""

from __future__ import annotations

import os
import platform
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


# /proc/cpuinfo flags that decide how fast LiteRT's XNNPACK kernels run, and their names in
# the reports, in this order.
SIMD_FEATURES = (("avx2", "AVX2"), ("fma", "FMA"), ("avx512f", "AVX-512"),
                 ("avx512_vnni", "AVX-512 VNNI"), ("avx_vnni", "AVX-VNNI"),
                 ("avx512_bf16", "AVX-512 BF16"), ("amx_tile", "AMX"), ("asimd", "NEON"),
                 ("asimddp", "NEON dot product"))


def simd_features(flags) -> list[str]:
    """The report names of the SIMD_FEATURES among a CPU's ``flags``, in SIMD_FEATURES order."""
    have = set(flags)
    return [name for flag, name in SIMD_FEATURES if flag in have]


def _cpuinfo() -> dict[str, str]:
    """The first processor's fields of /proc/cpuinfo (lower-case keys), {} without one."""
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if not line.strip():
                    if fields:
                        break
                    continue
                key, _, value = line.partition(":")
                fields.setdefault(key.strip().lower(), value.strip())
    except OSError:
        pass
    return fields


def cpu_info() -> dict[str, object]:
    """The CPU model, family and model number, its SIMD sets, and the code-path limit
    scripts/as_avx2.sh sets (``code_paths``, None without it)."""
    cpu = _cpuinfo()
    return {
        "cpu_model": cpu.get("model name") or platform.processor() or platform.machine()
        or "unknown",
        "cpu_family": cpu.get("cpu family"),
        "cpu_model_number": cpu.get("model"),
        "simd": simd_features((cpu.get("flags") or cpu.get("features") or "").split()),
        "code_paths": os.environ.get("FER_ROS_CODE_PATHS"),
    }


def cpu_text(cpu: dict) -> str:
    """One line naming the CPU of :func:`cpu_info` and the SIMD sets its kernels can use."""
    ids = ", ".join(f"{k} {cpu[f]}" for k, f in (("family", "cpu_family"),
                                                  ("model", "cpu_model_number")) if cpu.get(f))
    simd = cpu.get("simd")
    flags = "SIMD flags unknown" if simd is None else ", ".join(simd) or "no AVX2"
    if simd is not None and "AVX-512" in simd and "AMX" not in simd:
        flags += "; no AMX"
    if cpu.get("code_paths"):
        flags += f"; code paths limited to {cpu['code_paths']}"
    return f"{cpu['cpu_model']}{f' ({ids})' if ids else ''}: {flags}"
