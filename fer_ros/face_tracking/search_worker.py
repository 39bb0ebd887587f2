"""One job at a time on a thread of its own: the face search's worker.  ROS-free.

:class:`OneSlotWorker` runs ``fn(job)`` on a daemon thread, one job at a time: ``submit``
refuses a job while the previous one runs or its result has not been taken, so the worker
holds at most one job (for the face search: one frame) and one result.  Each result carries
the thread CPU time the job took (the face search's budget counts it).  The thread starts
with the first job and ends with :meth:`close` (or when the worker is garbage collected).
On Linux it can run at a lower scheduling priority than its owner (``nice``): background
work then takes only the CPU time the owner's threads leave.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Finished", "OneSlotWorker"]


@dataclass(frozen=True)
class Finished:
    """A job done: ``value`` is ``fn(job)``, or ``error`` what it raised; CPU and wall time."""

    job: Any
    value: Any
    error: BaseException | None
    cpu_s: float
    wall_s: float


class _Slot:
    """The state the thread shares with its owner (the thread holds no reference to the
    worker, so a forgotten worker is collected and its thread ends)."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.job: Any = None
        self.has_job = False
        self.result: Finished | None = None
        self.closed = False


def lower_thread_priority(nice: int) -> None:
    """Raise the calling thread's nice value by ``nice`` (Linux: per thread; elsewhere the
    call would change the whole process, so nothing is done).  Raising it needs no
    privilege; a refusal leaves the priority as it was."""
    if nice <= 0 or not sys.platform.startswith("linux"):
        return
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + nice)
    except OSError:
        pass


def _serve(slot: _Slot, fn: Callable[[Any], Any], nice: int) -> None:
    lower_thread_priority(nice)
    while True:
        with slot.cond:
            slot.cond.wait_for(lambda: slot.has_job or slot.closed)
            if slot.closed:
                return
            job = slot.job
        cpu0, wall0 = time.thread_time(), time.perf_counter()
        value, error = None, None
        try:
            value = fn(job)
        except Exception as exc:  # noqa: BLE001 - handed to the owner with the result
            error = exc
        done = Finished(job, value, error, time.thread_time() - cpu0,
                        time.perf_counter() - wall0)
        with slot.cond:
            slot.job, slot.has_job, slot.result = None, False, done
            slot.cond.notify_all()


def _close(slot: _Slot) -> None:
    with slot.cond:
        slot.closed = True
        slot.job = slot.result = None
        slot.cond.notify_all()


class OneSlotWorker:
    """Runs ``fn`` on one job at a time on its own thread (see the module doc)."""

    def __init__(self, fn: Callable[[Any], Any], name: str = "worker", nice: int = 0) -> None:
        self._fn = fn
        self._name = name
        self._nice = nice
        self._slot = _Slot()
        self._thread: threading.Thread | None = None
        weakref.finalize(self, _close, self._slot)

    @property
    def running(self) -> bool:
        """A job is in flight."""
        return self._slot.has_job

    @property
    def idle(self) -> bool:
        """No job in flight and no result waiting: ``submit`` would take a job."""
        slot = self._slot
        with slot.cond:
            return not slot.has_job and slot.result is None

    def submit(self, job: Any) -> bool:
        """Start ``fn(job)`` unless the worker is not idle (then False: the job is not kept)."""
        slot = self._slot
        with slot.cond:
            if slot.closed:
                raise RuntimeError(f"{self._name}: closed")
            if slot.has_job or slot.result is not None:
                return False
            slot.job, slot.has_job = job, True
            if self._thread is None:
                self._thread = threading.Thread(target=_serve, args=(slot, self._fn, self._nice),
                                                name=self._name, daemon=True)
                self._thread.start()
            slot.cond.notify_all()
        return True

    def take(self) -> Finished | None:
        """The finished job's result (once), or None when none is waiting.  Never blocks."""
        slot = self._slot
        with slot.cond:
            done, slot.result = slot.result, None
        return done

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until no job is in flight (its result may wait for ``take``); False on a
        timeout."""
        slot = self._slot
        with slot.cond:
            return slot.cond.wait_for(lambda: not slot.has_job or slot.closed, timeout_s)

    def close(self, timeout_s: float = 5.0) -> None:
        """Drop the waiting job and result, end the thread (after the job in flight)."""
        _close(self._slot)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)
