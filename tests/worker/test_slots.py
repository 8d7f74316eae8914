import threading
import time
from collections import defaultdict

from tests.worker.conftest import wait_until
from tests.worker.fakes import ticket
from worker.offsets import Lease
from worker.slots import MAX_QUEUED, MIN_QUEUED, Slot, Slots


def _slots(count, handle, crashed=None):
    on_crash = [].append if crashed is None else crashed.append
    return Slots(count, handle, on_crash, backlog_seconds=1.0, first_guess=0.01)


def _assign(slots, partitions):
    leases = {}
    for p in partitions:
        lease = Lease("jobs", p)
        lease.slot = slots.home(("jobs", p), leases.values())
        leases[p] = lease
    return leases


def test_each_partition_is_handled_by_one_slot_in_offset_order():
    seen = defaultdict(list)
    threads = defaultdict(set)
    lock = threading.Lock()

    def handle(t):
        time.sleep(0.001)
        with lock:
            seen[t.lease.partition].append(t.offset)
            threads[t.lease.partition].add(threading.current_thread().name)

    slots = _slots(3, handle)
    leases = _assign(slots, range(4))
    assert sorted(lease.slot for lease in leases.values()) == [0, 0, 1, 2]
    slots.start()
    for offset in range(20):
        for lease in leases.values():
            slots.dispatch(ticket(offset=offset, lease=lease))
    wait_until(lambda: sum(map(len, seen.values())) == 80, 10, "all handled")
    assert slots.stop(5)

    assert all(offsets == list(range(20)) for offsets in seen.values())
    assert all(len(names) == 1 for names in threads.values())
    assert len(set().union(*threads.values())) == 3


def test_a_partition_gets_its_old_slot_back():
    slots = _slots(2, lambda t: None)
    first = _assign(slots, [0, 1])
    again = slots.home(("jobs", 1), [first[0]])
    assert again == first[1].slot


def test_releasing_drops_queued_work_and_waits_for_the_running_job():
    started, finish = threading.Event(), threading.Event()
    handled = []

    def handle(t):
        if t.offset == 0:
            started.set()
            finish.wait(5)
        handled.append(t.offset)

    slots = _slots(1, handle)
    [lease] = _assign(slots, [0]).values()
    slots.start()
    for offset in range(5):
        slots.dispatch(ticket(offset=offset, lease=lease))
    assert started.wait(5)

    lease.ended.set()
    assert slots.release({lease}, timeout=0.05) is False  # still running offset 0
    finish.set()
    assert slots.release({lease}, timeout=5)
    assert slots.stop(5)
    assert handled == [0]


def test_the_backlog_is_measured_in_time():
    room = threading.Event()
    slot = Slot(0, lambda t: None, lambda e: None, room, backlog_seconds=5.0, first_guess=0.5)
    assert slot.limit == 10
    slot.job_seconds = 60.0
    assert slot.limit == MIN_QUEUED
    slot.job_seconds = 0.0001
    assert slot.limit == MAX_QUEUED

    slot.job_seconds = 0.5
    lease = Lease("jobs", 0)
    for offset in range(10):
        slot.put(ticket(offset=offset, lease=lease))
    assert slot.full and not slot.drained
    slot.drop({lease})
    assert slot.drained and not slot.full


def test_a_slot_that_crashes_says_so():
    crashed = []

    def handle(t):
        raise RuntimeError("bug")

    slots = _slots(1, handle, crashed)
    [lease] = _assign(slots, [0]).values()
    slots.start()
    slots.dispatch(ticket(lease=lease))
    wait_until(lambda: crashed, 5, "the crash report")
    assert isinstance(crashed[0], RuntimeError)
