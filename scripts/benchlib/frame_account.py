"""A graph run's frame account: what the bench counted from stamps next to what the nodes
say on /diagnostics, and whether the two agree.  ROS-free.

The nodes' side reads the last ``DiagnosticStatus`` of each node published after the graph
drained: the camera's ``total_published``, the emotion node's ``total_processed``
(answered), and per node of :data:`fer_ros.message_loss.ANSWER_CHAIN` ``dropped_frames``
(``unknown`` = not measurable), ``total_rejected`` and ``total_failed`` (an absent key is
0), put together by :func:`fer_ros.message_loss.account_frames`.  The camera's rate comes
from its statuses during the measured window (``achieved_rate_hz``; WARN = below its rate).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fer_ros.message_loss import ANSWER_CHAIN, account_frames

CAMERA = "camera"
#: the nodes whose last status the account needs
ACCOUNT_NODES = (CAMERA,) + ANSWER_CHAIN
WARN = 1                       # diagnostic_msgs/DiagnosticStatus.WARN
MAX_WARNINGS = 3               # distinct camera warning messages kept in the report


@dataclass(frozen=True)
class Status:
    """One DiagnosticStatus of a node, as the bench received it."""

    stamp_ns: int              # the DiagnosticArray's header stamp (the node's clock)
    level: int
    message: str
    values: dict[str, str] = field(default_factory=dict)


def node_counters(values: Mapping[str, str]) -> dict[str, Any]:
    """A node's counters as its ``stats()`` names them, from its status values:
    ``total_<k>`` -> ``k``; ``dropped_frames`` -> ``dropped`` and ``dropped_measured``."""
    out: dict[str, Any] = {}
    for key, text in values.items():
        if key.startswith("total_"):
            try:
                out[key[len("total_"):]] = int(text)
            except ValueError:
                continue        # e.g. a boolean counter written "true"
    dropped = values.get("dropped_frames", "0")
    out["dropped_measured"] = dropped != "unknown"
    out["dropped"] = int(dropped) if out["dropped_measured"] else 0
    return out


def _float(text: str | None) -> float | None:
    try:
        v = float(text) if text is not None else None
    except ValueError:
        return None
    return v if v is not None and v == v else None


def camera_rate(statuses: Sequence[Status], t0_ns: int, t1_ns: int) -> dict[str, Any]:
    """The camera's own view of its rate over its statuses stamped in [t0_ns, t1_ns]:
    requested, achieved (median and lowest of ``achieved_rate_hz``), and whether it warned
    (level WARN or worse) with its distinct messages."""
    inside = [s for s in statuses if t0_ns <= s.stamp_ns <= t1_ns]
    achieved = [v for v in (_float(s.values.get("achieved_rate_hz")) for s in inside)
                if v is not None]
    requested = next((v for v in (_float(s.values.get("requested_rate_hz"))
                                  for s in reversed(inside)) if v is not None), None)
    warnings: list[str] = []
    for s in inside:
        if s.level >= WARN and s.message not in warnings and len(warnings) < MAX_WARNINGS:
            warnings.append(s.message)
    return {"statuses": len(inside), "requested_hz": requested,
            "achieved_hz": statistics.median(achieved) if achieved else None,
            "achieved_hz_min": min(achieved) if achieved else None,
            "warned": any(s.level >= WARN for s in inside), "warnings": warnings}


def compare(bench_published: int, bench_answered: int,
            final: Mapping[str, Mapping[str, str] | None], drained: bool) -> dict[str, Any]:
    """The comparison rule: bench and nodes agree when the graph drained, every node's drops
    were measurable, and published, answered and dropped are each exactly equal (the bench:
    stamps seen on any topic, EmotionArrays received, their difference; the nodes: the
    camera's published, the emotion node's processed, the sum of the per-node counters).
    ``agree`` is None when a node's final status is missing or the graph did not drain."""
    bench = {"published": int(bench_published), "answered": int(bench_answered),
             "dropped": int(bench_published) - int(bench_answered)}
    missing = [name for name in ACCOUNT_NODES if final.get(name) is None]
    out: dict[str, Any] = {"bench": bench, "nodes": None, "agree": None, "differences": []}
    if missing:
        out["differences"] = [f"no /diagnostics status from {', '.join(missing)}"]
        return out
    stats = {name: node_counters(final[name]) for name in ACCOUNT_NODES}
    account = account_frames(stats[CAMERA].get("published", 0),
                             stats["emotion"].get("processed", 0), stats)
    out["nodes"] = {"published": account.published, "answered": account.answered,
                    "dropped": account.dropped, "by_node": account.by_node,
                    "accounted": account.accounted, "measured": account.measured,
                    "counters": stats}
    diffs = []
    for what, bench_n, node_n, whose in (
            ("published", bench["published"], account.published, "camera's"),
            ("answered", bench["answered"], account.answered, "emotion node's processed"),
            ("dropped", bench["dropped"], account.accounted, "nodes' counters")):
        if bench_n != node_n:
            diffs.append(f"{what}: bench {bench_n}, {whose} {node_n}")
    if not account.measured:
        diffs.append("a node could not count its lost frames (dropped_frames: unknown)")
    if not drained:
        diffs.append("the graph did not drain (frames in flight)")
    out["differences"] = diffs
    out["agree"] = None if not drained else not diffs
    return out
