"""Type checks shared by the validated constructors (smoothing, tracking). ROS-free."""

from __future__ import annotations

import numpy as np

__all__ = ["is_real", "is_int"]


def is_real(value: object) -> bool:
    """A real number (Python or NumPy int / float); bool is not one."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def is_int(value: object) -> bool:
    """An integer (Python or NumPy); bool is not one."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)
