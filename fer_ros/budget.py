"""Memory and work budgets of the nodes (ROS-free): what a node may buffer or process.

* :func:`oversized_image`: a frame over the pixel budget (``max_image_pixels``) is refused on
  its width and height alone, before any conversion or copy.
* :class:`WorkBudget`: a message whose estimated work exceeds the frame budget is dropped
  (counted) instead of being processed late while newer messages wait.
* :func:`limit_malloc_retention` (at start) and :func:`release_freed_memory` (after a
  message of thousands of small parts): freed memory goes back to the operating system, so a
  burst does not leave the resident size at its peak.
* :func:`clamp_score`: a detector score outside [0, 1] (or NaN) is clamped, not passed on.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import math

from fer_ros.parameters import ParamSpec

#: DCI 4K (4096 x 2160): the default pixel budget covers every camera up to 4K
MAX_IMAGE_PIXELS_4K = 4096 * 2160


def max_image_pixels_spec(what: str = "input images") -> ParamSpec:
    """The ``max_image_pixels`` parameter (one description for every node)."""
    return ParamSpec("max_image_pixels", MAX_IMAGE_PIXELS_4K,
                     f"Largest {what} accepted, in pixels (width x height), checked before "
                     "any copy; larger ones are rejected with a throttled reason. The default "
                     "is DCI 4K (4096x2160).", read_only=True, min=1, max=2**31 - 1)


def oversized_image(width: int, height: int, max_pixels: int) -> str | None:
    """Why a ``width`` x ``height`` image is over ``max_pixels`` (0 = no budget), or None."""
    pixels = int(width) * int(height)
    if max_pixels and pixels > max_pixels:
        return (f"{width}x{height} = {pixels} pixels is over the max_image_pixels budget of "
                f"{max_pixels}")
    return None


class WorkBudget:
    """Decides whether a message of ``items`` units of work fits in ``budget_s`` seconds.

    The cost of one unit is learnt from the measured times (exponential average), so the
    decision follows the machine's real speed. Until a first measurement every message fits.
    """

    def __init__(self, budget_s: float, smoothing: float = 0.2) -> None:
        if budget_s <= 0:
            raise ValueError(f"budget_s must be > 0, got {budget_s}")
        if not 0.0 < smoothing <= 1.0:
            raise ValueError(f"smoothing must be in (0, 1], got {smoothing}")
        self.budget_s = float(budget_s)
        self.smoothing = float(smoothing)
        self.seconds_per_item: float | None = None

    def estimate(self, items: int) -> float:
        """Expected seconds for ``items`` units (0.0 before any measurement)."""
        return 0.0 if self.seconds_per_item is None else items * self.seconds_per_item

    def fits(self, items: int) -> bool:
        return self.estimate(items) <= self.budget_s

    def record(self, items: int, seconds: float) -> None:
        """Learn from one processed message (``items`` >= 1 units in ``seconds``)."""
        if items <= 0 or not math.isfinite(seconds) or seconds < 0:
            return
        sample = seconds / items
        if self.seconds_per_item is None:
            self.seconds_per_item = sample
        else:
            self.seconds_per_item += self.smoothing * (sample - self.seconds_per_item)


def clamp_score(score: float) -> tuple[float, bool]:
    """(score clamped to [0, 1], whether it had to be changed); NaN becomes 0."""
    value = float(score)
    if math.isnan(value):
        return 0.0, True
    clamped = min(1.0, max(0.0, value))
    return clamped, clamped != value


#: glibc mallopt() parameters (malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: allocations from this size on get their own mapping, returned to the OS when freed
MMAP_THRESHOLD_BYTES = 1 << 20


def limit_malloc_retention(threshold: int = MMAP_THRESHOLD_BYTES) -> bool:
    """Make glibc return freed frame-sized blocks to the OS (True when it applied).

    glibc serves a block of 128 KiB or more from its own mapping, but after such a block is
    freed it raises that threshold to the block's size (up to 32 MiB), so later frames come
    from the heap, whose freed memory is kept by the process. Fixing the threshold (which
    also stops the raising) at 1 MiB keeps frames and crops in mappings that ``free``
    unmaps; smaller objects are unaffected. No effect (False) off glibc.
    """
    mallopt = _glibc_function("mallopt")
    if mallopt is None:
        return False
    ok = mallopt(M_MMAP_THRESHOLD, int(threshold)) == 1
    return ok and mallopt(M_TRIM_THRESHOLD, int(2 * threshold)) == 1


def release_freed_memory() -> bool:
    """Give the free pages inside glibc's heaps back to the OS (``malloc_trim``), after a
    message of many small objects (e.g. 2,000 face crops of 10 KB: below the mmap threshold,
    their freed memory is scattered between live objects). A few milliseconds; call it after
    such a message, not per frame. False off glibc."""
    trim = _glibc_function("malloc_trim")
    if trim is None:
        return False
    trim(0)
    return True


@functools.cache   # find_library runs ldconfig: look up once
def _glibc_function(name: str):
    libc_name = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(libc_name), name) if libc_name else None
    except (OSError, AttributeError):
        return None
