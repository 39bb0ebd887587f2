"""Hostile messages shared by scripts/hostile_input.py and the bad-input tests (nothing
happens at import, so a test can import it)."""

from __future__ import annotations

from fer_ros.msg import Emotion, EmotionArray

#: (x, y, width, height): x >= 2**31 (negative once OpenCV reads it as int32), a box of
#: 2**32 - 1 pixels a side, and one ordinary face that must still be drawn
OUT_OF_RANGE_BOXES = ((2**31 + 5, 10, 50, 50), (100, 100, 2**32 - 1, 2**32 - 1),
                      (100, 100, 60, 60))


def out_of_range_result() -> EmotionArray:
    """An EmotionArray with one "happy" face per box of OUT_OF_RANGE_BOXES (header unset)."""
    result = EmotionArray()
    for x, y, w, h in OUT_OF_RANGE_BOXES:
        face = Emotion()
        face.box.x_offset, face.box.y_offset, face.box.width, face.box.height = x, y, w, h
        face.label, face.confidence = "happy", 0.9
        result.faces.append(face)
    return result
