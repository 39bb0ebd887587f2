"""fer_ros.budget: pixel budget, work budget, score clamping, malloc retention."""

import math
import subprocess
import sys

import pytest
from conftest import REPO

from fer_ros.budget import (
    MAX_IMAGE_PIXELS_4K,
    WorkBudget,
    clamp_score,
    max_image_pixels_spec,
    oversized_image,
)
from fer_ros.parameters import check_value


def test_pixel_budget_defaults_to_4k_and_names_the_sizes():
    assert oversized_image(4096, 2160, MAX_IMAGE_PIXELS_4K) is None
    assert oversized_image(3840, 2160, MAX_IMAGE_PIXELS_4K) is None
    why = oversized_image(8000, 8000, MAX_IMAGE_PIXELS_4K)
    assert "8000x8000" in why and "max_image_pixels" in why
    assert oversized_image(2**32 - 1, 2**32 - 1, 0) is None          # 0 = no budget
    spec = max_image_pixels_spec("frames")
    assert spec.default == MAX_IMAGE_PIXELS_4K and check_value(spec, 0) is not None


def test_work_budget_learns_the_cost_per_item():
    work = WorkBudget(budget_s=0.1)
    assert work.fits(10_000)                  # nothing measured yet
    work.record(10, 0.01)                     # 1 ms per item
    assert work.fits(100) and not work.fits(101)
    work.record(10, 0.1)                      # slower now: the estimate follows
    assert work.seconds_per_item == pytest.approx(0.001 + 0.2 * 0.009)
    work.record(0, 5.0)                       # no items: ignored
    work.record(3, math.nan)
    assert work.seconds_per_item == pytest.approx(0.0028)
    with pytest.raises(ValueError):
        WorkBudget(0.0)


def test_clamp_score():
    assert clamp_score(0.5) == (0.5, False)
    assert clamp_score(1.5) == (1.0, True)
    assert clamp_score(-2) == (0.0, True)
    assert clamp_score(math.nan) == (0.0, True)
    assert clamp_score(math.inf) == (1.0, True)


GROWTH = """
import sys, numpy as np, psutil
from fer_ros.budget import limit_malloc_retention
if sys.argv[1] == "fixed":
    assert limit_malloc_retention()
proc = psutil.Process()
keep = []
for _ in range(20):                            # a burst: a big frame, then frame-sized pieces
    big = np.ones((4000, 4000, 3), np.uint8)
    pieces = [np.ones((1500, 1500, 3), np.uint8) for _ in range(8)]
    smalls = [np.ones(200_000, np.uint8) for _ in range(30)]
    del big, pieces
    keep.extend(smalls[::10])                  # long-lived small objects on top of the heap
    del smalls
print(proc.memory_info().rss)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc only")
def test_fixed_mmap_threshold_returns_freed_frames_to_the_system():
    def rss(mode):
        out = subprocess.run([sys.executable, "-c", GROWTH, mode], capture_output=True,
                             text=True, cwd=REPO, check=True).stdout
        return int(out.split()[-1])

    default, fixed = rss("default"), rss("fixed")
    # default glibc keeps the 6.75 MB pieces in its heap (pinned by the small objects)
    assert fixed < default - 30e6, (default, fixed)
