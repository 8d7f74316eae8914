import threading
import time
from collections import defaultdict

from tests.worker.fakes import ticket
from tools.waiting import wait_until
from worker.offsets import Lease
from worker.slot import MAX_QUEUED, MIN_QUEUED, Slot


class PausingConsumer:
    """Records which partitions the slot pauses and resumes."""

    def __init__(self):
        self.paused: set[int] = set()

    def pause(self, partitions):
        self.paused |= {tp.partition for tp in partitions}

    def resume(self, partitions):
        self.paused -= {tp.partition for tp in partitions}


def _slot(handle, crashed=None, consumer=None, backlog_seconds=1.0, first_guess=0.01):
    on_crash = [].append if crashed is None else crashed.append
    return Slot(handle, on_crash, consumer or PausingConsumer(), backlog_seconds, first_guess)


def test_jobs_run_on_one_thread_in_offset_order_per_partition():
    seen = defaultdict(list)
    threads = set()

    def handle(t):
        seen[t.lease.partition].append(t.offset)
        threads.add(threading.current_thread().name)

    slot = _slot(handle, backlog_seconds=100.0)
    leases = [Lease("jobs", p) for p in range(4)]
    slot.start()
    for offset in range(20):
        for lease in leases:
            slot.dispatch(ticket(offset=offset, lease=lease), leases)
    wait_until(lambda: sum(map(len, seen.values())) == 80, 10, "all handled")
    assert slot.stop(5)

    assert all(offsets == list(range(20)) for offsets in seen.values())
    assert threads == {"slot"}


def test_a_full_backlog_pauses_the_partitions_and_a_drained_one_resumes_them():
    consumer, go = PausingConsumer(), threading.Event()
    slot = _slot(lambda t: go.wait(5), consumer=consumer, backlog_seconds=0.04, first_guess=0.01)
    leases = [Lease("jobs", 0), Lease("jobs", 1)]
    assert slot.limit == 4
    for offset in range(4):
        slot.dispatch(ticket(offset=offset, lease=leases[0]), leases)
    assert consumer.paused == {0, 1}
    assert all(lease.paused for lease in leases)
    began = time.monotonic()
    assert slot.poll_timeout(leases, 0.2) == 0.0  # waited for room instead of fetching
    assert time.monotonic() - began >= 0.15

    slot.start()
    go.set()
    wait_until(lambda: slot.drained, 5, "the backlog to drain")
    assert slot.poll_timeout(leases, 0.2) == 0.2
    assert consumer.paused == set()
    assert not any(lease.paused for lease in leases)
    assert slot.stop(5)


def test_releasing_drops_queued_work_and_waits_for_the_running_job():
    started, finish = threading.Event(), threading.Event()
    handled = []

    def handle(t):
        if t.offset == 0:
            started.set()
            finish.wait(5)
        handled.append(t.offset)

    slot = _slot(handle, backlog_seconds=100.0)
    lease = Lease("jobs", 0)
    slot.start()
    for offset in range(5):
        slot.dispatch(ticket(offset=offset, lease=lease), [lease])
    assert started.wait(5)

    lease.ended.set()
    assert slot.release({lease}, timeout=0.05) is False  # still running offset 0
    finish.set()
    assert slot.release({lease}, timeout=5)
    assert slot.stop(5)
    assert handled == [0]


def test_the_backlog_is_measured_in_time():
    slot = _slot(lambda t: None, backlog_seconds=5.0, first_guess=0.5)
    assert slot.limit == 10
    slot.job_seconds = 60.0
    assert slot.limit == MIN_QUEUED
    slot.job_seconds = 0.0001
    assert slot.limit == MAX_QUEUED

    slot.job_seconds = 0.5
    lease = Lease("jobs", 0)
    for offset in range(10):
        slot.dispatch(ticket(offset=offset, lease=lease), [lease])
    assert slot.full and not slot.drained
    assert slot.release({lease}, timeout=0)
    assert slot.drained and not slot.full


def test_a_slot_that_crashes_says_so():
    crashed = []

    def handle(t):
        raise RuntimeError("bug")

    slot = _slot(handle, crashed)
    lease = Lease("jobs", 0)
    slot.start()
    slot.dispatch(ticket(lease=lease), [lease])
    wait_until(lambda: crashed, 5, "the crash report")
    assert isinstance(crashed[0], RuntimeError)
