"""Messages a subscriber never got, counted from gaps in the publishers' sequence numbers.

DDS numbers the samples each writer sends 1, 2, 3, ...; rclpy (Iron and later) hands that
number to a subscription callback as ``MessageInfo["publication_sequence_number"]``. A jump
from n to n + k between two messages of one publisher means k - 1 messages were lost on the
way: overwritten in a KEEP_LAST history while the node was busy (depth 1 keeps only the
newest frame), or not delivered at all. Nothing before the first message of a publisher is
counted (the subscriber may have joined late), nor anything after its last one.

Where the numbers are missing (Humble's rclpy passes no MessageInfo; an rmw may report
none) the count is marked *not measured*: ``measured`` is False and callers report the
dropped count as unknown rather than as 0.

:func:`account_frames` puts the nodes' counts together: every frame the camera published
and that got no answer (EmotionArray) was dropped, rejected or failed at one node of
:data:`ANSWER_CHAIN`. ROS-free.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any


class MessageLoss:
    """Per-publisher last sequence number and the total of the gaps between them.

    Remembers at most ``max_publishers`` publishers (the least recently heard is forgotten;
    if it comes back its next gap is not counted, so the count is then a lower bound).
    """

    def __init__(self, max_publishers: int = 32) -> None:
        self.max_publishers = max(1, int(max_publishers))
        self._last: OrderedDict[Hashable, int] = OrderedDict()
        self.lost = 0
        self.measured = True

    def restart(self) -> None:
        """A new subscription: forget where each publisher was (what it published while
        nobody listened is not a loss); the total so far stays."""
        self._last.clear()

    def not_measurable(self) -> None:
        """No sequence numbers will come (e.g. this rclpy passes no MessageInfo)."""
        self.measured = False

    def observe(self, publisher: Hashable, sequence: int | None) -> int:
        """Record one received message; returns how many of ``publisher``'s messages were
        lost just before it (0 for its first message, an old or a repeated number)."""
        if not sequence:                 # None or 0 (RMW_..._SEQUENCE_NUMBER_UNSUPPORTED)
            self.measured = False
            return 0
        last = self._last.pop(publisher, None)
        self._last[publisher] = max(sequence, last or 0)
        while len(self._last) > self.max_publishers:
            self._last.popitem(last=False)
        if last is None or sequence <= last:
            return 0
        gap = sequence - last - 1
        self.lost += gap
        return gap


#: the nodes between the camera and an answer (an EmotionArray), in order
ANSWER_CHAIN = ("face_detector", "emotion")
#: per-node counters of frames that got no answer there
UNANSWERED_COUNTERS = ("dropped", "rejected", "failed")


@dataclass
class FrameAccount:
    """Where the camera's frames went: ``published - answered`` is what got no answer
    (``dropped``); ``by_node`` says per node of :data:`ANSWER_CHAIN` how many it lost
    before taking them (dropped), refused (rejected) or failed on."""

    published: int
    answered: int
    by_node: dict[str, dict[str, int]]
    measured: bool              # False: some node could not count its lost messages

    @property
    def dropped(self) -> int:
        return self.published - self.answered

    @property
    def accounted(self) -> int:
        """Frames the nodes' counters account for (equals ``dropped`` once all is drained)."""
        return sum(sum(c.values()) for c in self.by_node.values())


def account_frames(published: int, answered: int,
                   node_stats: Mapping[str, Mapping[str, Any]]) -> FrameAccount:
    """A :class:`FrameAccount` from the nodes' ``stats()`` (name -> counters)."""
    by_node = {name: {key: int(node_stats.get(name, {}).get(key, 0))
                      for key in UNANSWERED_COUNTERS} for name in ANSWER_CHAIN}
    measured = all(node_stats.get(name, {}).get("dropped_measured", False) is True
                   for name in ANSWER_CHAIN)
    return FrameAccount(int(published), int(answered), by_node, measured)
