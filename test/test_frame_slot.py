"""FrameSlot: newest-only mailbox with a non-blocking worker lock (ROS-free)."""

import threading
import time

import pytest

from fer_ros.frame_slot import FrameSlot


def test_single_thread_processes_every_item_in_order():
    slot = FrameSlot()
    seen = []
    for i in range(5):
        assert slot.offer(i, seen.append) == 1
    assert seen == [0, 1, 2, 3, 4]
    assert slot.stats() == {"offered": 5, "dropped": 0, "processed": 5, "failed": 0}


def test_put_replaces_and_counts_drops():
    slot = FrameSlot()
    slot.put("a")
    slot.put("b")
    slot.put("c")
    assert slot.take() == (True, "c")
    assert slot.take() == (False, None)
    assert slot.dropped == 2


def test_none_is_a_valid_item():
    slot = FrameSlot()
    got = []
    slot.offer(None, got.append)
    assert got == [None]


def test_busy_worker_makes_other_offers_return_at_once_and_keeps_newest():
    slot = FrameSlot()
    started = threading.Event()
    release = threading.Event()
    seen = []

    def slow(item):
        seen.append(item)
        if item == 0:
            started.set()
            assert release.wait(5)

    worker = threading.Thread(target=slot.offer, args=(0, slow))
    worker.start()
    assert started.wait(5)
    # While the worker is busy, offers from other threads must not block.
    t0 = time.monotonic()
    for i in range(1, 50):
        assert slot.offer(i, slow) == 0
    assert time.monotonic() - t0 < 1.0
    assert slot.busy and slot.pending
    release.set()
    worker.join(5)
    # The worker went on with the newest item only; the 48 in between were dropped.
    assert seen == [0, 49]
    assert slot.stats()["dropped"] == 48
    assert not slot.pending and not slot.busy


def test_exception_is_counted_lock_released_and_reported():
    slot = FrameSlot()
    errors = []

    def boom(item):
        if item == "bad":
            raise RuntimeError("kaputt")

    slot.offer("bad", boom, errors.append)
    assert len(errors) == 1 and "kaputt" in str(errors[0])
    assert not slot.busy
    assert slot.offer("good", boom, errors.append) == 1
    assert slot.stats()["failed"] == 1 and slot.stats()["processed"] == 2


def test_exception_without_handler_propagates_but_releases_lock():
    slot = FrameSlot()
    with pytest.raises(ZeroDivisionError):
        slot.offer(1, lambda item: 1 / 0)
    assert not slot.busy


def test_many_threads_no_item_lost_at_the_end():
    """Whatever the interleaving, the last item offered is always processed."""
    slot = FrameSlot()
    processed = []
    lock = threading.Lock()

    def work(item):
        time.sleep(0.0005)
        with lock:
            processed.append(item)

    def producer(base):
        for i in range(200):
            slot.offer(base + i, work)

    threads = [threading.Thread(target=producer, args=(k * 1000,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    final = 99999
    slot.offer(final, work)
    assert processed[-1] == final or final in processed
    stats = slot.stats()
    assert stats["offered"] == 801
    assert stats["processed"] + stats["dropped"] == stats["offered"]
    assert not slot.pending
