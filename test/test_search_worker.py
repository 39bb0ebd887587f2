"""fer_ros.face_tracking.search_worker.OneSlotWorker: one job in flight, one result waiting,
errors handed back, a thread that ends."""

import gc
import os
import sys
import threading

import pytest

from fer_ros.face_tracking.search_worker import OneSlotWorker


def held(job):
    """A job that runs until its event is set, then returns its value."""
    event, value = job
    assert event.wait(10.0)
    return value


def test_one_job_at_a_time_and_its_result_once():
    worker = OneSlotWorker(held, name="test_worker")
    first, second = threading.Event(), threading.Event()
    assert worker.idle and worker.take() is None
    assert worker.submit((first, "a"))
    assert worker.running and not worker.idle
    assert not worker.submit((second, "b"))          # refused: one in flight
    first.set()
    assert worker.wait(10.0) and not worker.running
    assert not worker.idle and not worker.submit((second, "b"))   # result not taken yet
    done = worker.take()
    assert (done.value, done.error, done.job[1]) == ("a", None, "a")
    assert done.cpu_s >= 0 and done.wall_s >= 0
    assert worker.take() is None and worker.idle
    second.set()
    assert worker.submit((second, "b")) and worker.wait(10.0) and worker.take().value == "b"
    worker.close()
    with pytest.raises(RuntimeError, match="closed"):
        worker.submit((second, "c"))


def test_an_error_comes_back_with_the_result_and_the_worker_goes_on():
    def parse(text):
        return int(text)

    worker = OneSlotWorker(parse)
    assert worker.submit("x") and worker.wait(10.0)
    done = worker.take()
    assert done.value is None and isinstance(done.error, ValueError)
    assert worker.submit("7") and worker.wait(10.0) and worker.take().value == 7
    worker.close()


def test_the_thread_ends_on_close_and_when_the_worker_is_dropped():
    def names():
        return [t.name for t in threading.enumerate()]

    closed = OneSlotWorker(str, name="closed_worker")
    assert closed.submit(1) and closed.wait(10.0)
    closed.close()
    dropped = OneSlotWorker(str, name="dropped_worker")
    assert dropped.submit(1) and dropped.wait(10.0)
    thread = dropped._thread
    del dropped
    gc.collect()
    thread.join(10.0)
    assert "closed_worker" not in names() and not thread.is_alive()


def thread_nice(_job):
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
@pytest.mark.parametrize("nice", [0, 5])
def test_the_thread_runs_nice_above_its_owner_and_the_owner_keeps_its_priority(nice):
    own = thread_nice(None)
    worker = OneSlotWorker(thread_nice, name="test_worker", nice=nice)
    try:
        assert worker.submit(None) and worker.wait(10.0)
        assert worker.take().value == min(own + nice, 19)
        assert thread_nice(None) == own
    finally:
        worker.close()
