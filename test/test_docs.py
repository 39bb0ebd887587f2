"""The README's and docs/NODES.md's topic tables against the nodes' PUBLISHES/SUBSCRIBES and
fer_ros.hri.TOPICS: every topic a node uses is listed with its type, and no table names a
topic or type that no node has."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from fer_ros.hri import TOPICS as HRI_TOPICS
from fer_ros.nodes import NODE_CLASSES

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", REPO / "docs" / "NODES.md"]
#: published by every node besides its own topics (absolute name), and the emotion node's
#: ROS4HRI topics (with its hri parameter)
COMMON_TOPICS = {"/diagnostics": "diagnostic_msgs/msg/DiagnosticArray", **HRI_TOPICS}


def node_topics() -> dict[str, str]:
    """topic -> message type over all nodes (a topic has one type wherever it is used)."""
    out = dict(COMMON_TOPICS)
    for module, *_ in NODE_CLASSES.values():
        mod = importlib.import_module(module)
        for topic, msg_type in {**mod.PUBLISHES, **mod.SUBSCRIBES}.items():
            assert out.setdefault(topic, msg_type) == msg_type, topic
    return out


def topic_rows(text: str) -> dict[str, str]:
    """topic -> the type cell of every row of the tables whose header starts with 'topic'."""
    rows, in_table = {}, False
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == "topic":
            in_table = True
        elif not line.startswith("|"):
            in_table = False
        elif in_table and not set(cells[0]) <= set("-: "):
            name = re.match(r"`([^`]+)`", cells[0])
            assert name, f"topic cell without a `name`: {line}"
            rows[name.group(1)] = cells[1]
    return rows


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_topic_tables_match_the_nodes(doc):
    rows = topic_rows(doc.read_text())
    topics = node_topics()
    assert rows, f"no topic table in {doc.name}"
    assert set(rows) == set(topics), (
        f"{doc.name}: missing {sorted(set(topics) - set(rows))}, "
        f"unknown {sorted(set(rows) - set(topics))}")
    for topic, msg_type in topics.items():
        short = msg_type.replace("/msg/", "/")
        assert msg_type in rows[topic] or short in rows[topic], \
            f"{doc.name}: {topic} should be {msg_type}, the table says {rows[topic]!r}"
