"""What a model costs a face on this CPU: timed back to back, and paced as a node calls it.

    python training/export.py --cards-only models/emotion_cnn_int8.tflite --cost

A node is called once a camera frame and idles between: after an idle gap a call costs
more than back to back (caches, and interpreter threads that went to sleep; on a 2-core
AMD EPYC VM the reference CNN's int8 file took 0.35-0.40 ms a face back to back, 0.9-1.3 ms
once every 1/30 s).  Both are kept; a robot's CPU budget is the paced one.  The one home of
these timings: ``scripts/bench.py --components`` uses them too.
"""

from __future__ import annotations

import datetime
import time
from pathlib import Path

import numpy as np

from training.provenance import cpu_info, cpu_text, git_commit

PACED_RATE_HZ = 30.0        # a camera's frame rate
PACED_CALLS = 60


class Timings(list):
    """Wall seconds per call, plus ``cpu_s``: process CPU seconds per call (all threads;
    less sensitive to other load than the wall time, but it counts every thread)."""
    cpu_s = float("nan")


def time_calls(fn, min_calls: int = 20, min_seconds: float = 1.0, warmup: int = 3
               ) -> Timings:
    """Seconds per call of fn(), back to back: at least min_calls calls and min_seconds."""
    for _ in range(warmup):
        fn()
    times = Timings()
    start = time.perf_counter()
    cpu0 = time.process_time()
    while len(times) < min_calls or time.perf_counter() - start < min_seconds:
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
        if len(times) > 100000:
            break
    times.cpu_s = (time.process_time() - cpu0) / len(times)
    return times


def time_paced(fn, rate_hz: float = PACED_RATE_HZ, calls: int = PACED_CALLS,
               warmup: int = 3) -> Timings:
    """Seconds per call of fn(), one call every 1 / rate_hz seconds (sleeping between)."""
    for _ in range(warmup):
        fn()
    times = Timings()
    cpu0 = time.process_time()
    tick = time.perf_counter()
    for _ in range(calls):
        tick += 1.0 / rate_hz
        time.sleep(max(0.0, tick - time.perf_counter()))
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    times.cpu_s = (time.process_time() - cpu0) / len(times)
    return times


def cost_per_face(model_path, num_threads: int = 2, seconds: float = 2.0) -> dict:
    """One face's cost of the emotion model at ``model_path`` (.keras or .tflite) with
    ``num_threads`` inference threads, median ms back to back and paced, and where it was
    measured: the card's ``cost_per_face`` entry."""
    from fer_ros.emotion_classifier import open_model

    model = open_model(model_path, num_threads)
    face = np.random.default_rng(0).integers(0, 256, (1, 48, 48, 1)).astype(np.float32)
    back_to_back = time_calls(lambda: model(face), min_seconds=seconds)
    paced = time_paced(lambda: model(face))
    cpu = cpu_info()
    return {"cpu": cpu_text(cpu), **cpu, "num_threads": num_threads,
            "back_to_back_ms": round(1e3 * float(np.median(back_to_back)), 3),
            "paced_ms": round(1e3 * float(np.median(paced)), 3),
            "paced_rate_hz": PACED_RATE_HZ, "commit": git_commit(abbrev=10),
            "date": datetime.date.today().isoformat(), "file": Path(model_path).name}
