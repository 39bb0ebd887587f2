"""REP-155 face ids from the tracker's ids, and which faces to publish and to retire. ROS-free.

REP-155 ("Identifier Syntax") only asks for unique, short ids and suggests 5 random
characters. A face id is also a token of topic names (``/humans/faces/<id>/roi``), which ROS 2
requires to start with a letter and to hold only letters, digits and underscores. So a face
id here is a 4-letter tag followed by the track id in base 36: ``kqzd1``, ``kqzd2``, ...,
``kqzdz``, ``kqzd10``.

The face_detector's track ids are never reused within its run, so (tag, track id) is never
reused either, as long as the tag changes whenever the track ids may start again: the tag is
drawn at random when the rules start (a new process or configure) and drawn anew when a
track id shows up that may already have had a name under the current tag (a new id not above
the highest one named so far: the face_detector was restarted). A new tag never renames a
face that is still tracked; it only names the faces that come after it.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Iterable
from typing import NamedTuple

TAG_LENGTH = 4
_DIGITS = string.digits + string.ascii_lowercase


def base36(n: int) -> str:
    """``n`` (>= 0) in lowercase base 36."""
    if n < 0:
        raise ValueError(f"expected n >= 0, got {n}")
    out = ""
    while True:
        n, digit = divmod(n, 36)
        out = _DIGITS[digit] + out
        if n == 0:
            return out


def is_face_id(text: str) -> bool:
    """True for a valid id here: a ROS 2 name token (a letter first, then letters, digits and
    underscores), which REP-155 ids must be to appear in topic names."""
    return bool(text) and text[0].isascii() and text[0].isalpha() and all(
        c.isascii() and (c.isalnum() or c == "_") for c in text)


_RNG = random.SystemRandom()


def random_tag() -> str:
    """TAG_LENGTH random lowercase letters."""
    return "".join(_RNG.choice(string.ascii_lowercase) for _ in range(TAG_LENGTH))


class FaceChange(NamedTuple):
    """What one update changed: (track id, face id) of the faces that appeared, in track id
    order, and the face ids of those that left."""

    added: list[tuple[int, str]]
    retired: list[str]


class FaceIds:
    """The tracked faces and their REP-155 ids.

    ``update(tracked_ids)`` takes the confirmed track ids alive in a frame (the faces message's
    ``tracked_ids``; 0, "not tracked", is ignored) and says which faces appeared and which left;
    ``face_id(track_id)`` names a face while it is tracked. ``new_tag`` draws the tags (random
    by default; a test passes its own).
    """

    def __init__(self, new_tag: Callable[[], str] = random_tag) -> None:
        self._new_tag = new_tag
        self._used_tags: set[str] = set()
        self._tag = self._draw_tag()
        self._highest_named = 0             # highest track id named under the current tag
        self._faces: dict[int, str] = {}    # track id -> face id, while tracked

    def _draw_tag(self) -> str:
        for _ in range(1000):
            tag = self._new_tag()
            if len(tag) == TAG_LENGTH and is_face_id(tag) and tag not in self._used_tags:
                self._used_tags.add(tag)
                return tag
        raise RuntimeError("cannot draw a new face id tag")   # only with a broken new_tag

    @property
    def tracked(self) -> dict[int, str]:
        """track id -> face id of every tracked face, in track id order."""
        return dict(sorted(self._faces.items()))

    def face_id(self, track_id: int) -> str | None:
        """The face id of a tracked face, None for one that is not (or no longer) tracked."""
        return self._faces.get(int(track_id))

    def update(self, tracked_ids: Iterable[int]) -> FaceChange:
        """Set the tracked faces to ``tracked_ids``; name the new ones, forget those gone."""
        alive = {int(i) for i in tracked_ids if int(i) > 0}
        retired = [self._faces.pop(i) for i in sorted(set(self._faces) - alive)]
        added = []
        for track_id in sorted(alive - set(self._faces)):
            if track_id <= self._highest_named:     # may have had a name: start a new tag
                self._tag, self._highest_named = self._draw_tag(), 0
            self._highest_named = track_id
            face_id = self._tag + base36(track_id)
            self._faces[track_id] = face_id
            added.append((track_id, face_id))
        return FaceChange(added, retired)

    def retire_all(self) -> list[str]:
        """Forget every tracked face (e.g. the node stops); returns their face ids."""
        return self.update(()).retired
