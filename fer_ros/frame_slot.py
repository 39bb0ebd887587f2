"""Latest-message slot: keep only the newest input, process it when the worker is free.

A subscription callback calls :meth:`FrameSlot.offer` with every message. The slot keeps only
the newest one (an older unprocessed message is dropped and counted), then tries to become the
worker with a *non-blocking* lock acquire. The thread that wins processes the newest message,
and keeps going while newer messages arrived in the meantime; every other thread returns at
once. So nothing queues up: a slow consumer sees fewer frames, never older ones, and the
latency does not grow with the load.

Works with any executor: with a MultiThreadedExecutor and a reentrant callback group, callbacks
that arrive while the worker is busy just replace the slot's content; with a single-threaded
executor every message is processed in turn (and the DDS history depth bounds the backlog).

ROS-free: plain threading, unit-tested without rclpy.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Generic, TypeVar

T = TypeVar("T")


class FrameSlot(Generic[T]):
    """A one-element mailbox with a drop counter and a non-blocking worker lock."""

    def __init__(self) -> None:
        self._item_lock = threading.Lock()   # guards _item and the counters
        self._work_lock = threading.Lock()   # held by the thread that processes
        self._item: T | None = None
        self._has_item = False
        self.offered = 0     # messages put into the slot
        self.dropped = 0     # messages replaced before they were processed
        self.processed = 0   # messages handed to the process function (ok or not)
        self.failed = 0      # process function raised

    # -- mailbox -----------------------------------------------------------------------
    def put(self, item: T) -> None:
        """Store ``item`` as the newest message, dropping an unprocessed older one."""
        with self._item_lock:
            if self._has_item:
                self.dropped += 1
            self._item = item
            self._has_item = True
            self.offered += 1

    def take(self) -> tuple[bool, T | None]:
        """Remove and return (True, newest item), or (False, None) when empty."""
        with self._item_lock:
            if not self._has_item:
                return False, None
            item, self._item, self._has_item = self._item, None, False
            return True, item

    @property
    def pending(self) -> bool:
        with self._item_lock:
            return self._has_item

    @property
    def busy(self) -> bool:
        return self._work_lock.locked()

    # -- worker ------------------------------------------------------------------------
    def process_pending(self, process: Callable[[T], Any],
                        on_error: Callable[[BaseException], None] | None = None) -> int:
        """Process the newest item(s) if no other thread is doing so; never blocks.

        Returns how many items this call processed (0 if another thread is the worker or the
        slot was empty). An exception from ``process`` is counted and passed to ``on_error``
        (re-raised when there is none); the lock is always released.
        """
        count = 0
        while True:
            if not self._work_lock.acquire(blocking=False):
                return count
            try:
                while True:
                    ok, item = self.take()
                    if not ok:
                        break
                    with self._item_lock:
                        self.processed += 1
                    count += 1
                    try:
                        process(item)  # type: ignore[arg-type]
                    except Exception as exc:  # noqa: BLE001 - reported, worker stays alive
                        with self._item_lock:
                            self.failed += 1
                        if on_error is None:
                            raise
                        on_error(exc)
            finally:
                self._work_lock.release()
            # An item offered between our last take() and the release would otherwise wait
            # for the next offer: look once more.
            if not self.pending:
                return count

    def offer(self, item: T, process: Callable[[T], Any],
              on_error: Callable[[BaseException], None] | None = None) -> int:
        """put() then process_pending(): what a subscription callback calls."""
        self.put(item)
        return self.process_pending(process, on_error)

    def stats(self) -> dict[str, int]:
        with self._item_lock:
            return {"offered": self.offered, "dropped": self.dropped,
                    "processed": self.processed, "failed": self.failed}
