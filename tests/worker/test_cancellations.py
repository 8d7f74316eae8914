import uuid

from streams.messages import CancelRequest
from worker.cancellations import CancelledJobs


class Clock:
    def __init__(self, now=1_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


def test_a_cancel_request_lasts_its_ttl():
    clock = Clock()
    cancelled = CancelledJobs(ttl=100, clock=clock)
    cancelled.add("a", at=clock.now)
    assert "a" in cancelled and "b" not in cancelled
    clock.now += 101
    assert "a" not in cancelled


def test_requests_older_than_the_ttl_are_not_kept():
    clock = Clock()
    cancelled = CancelledJobs(ttl=100, clock=clock)
    cancelled.add("old", at=clock.now - 500)
    assert "old" not in cancelled and len(cancelled) == 0


def test_the_set_is_bounded_and_forgets_the_oldest_first():
    clock = Clock()
    cancelled = CancelledJobs(ttl=100, limit=3, clock=clock)
    for job in "abcd":
        cancelled.add(job, at=clock.now)
    assert len(cancelled) == 3
    assert "a" not in cancelled and all(job in cancelled for job in "bcd")


def test_expired_entries_are_dropped_as_new_ones_come():
    clock = Clock()
    cancelled = CancelledJobs(ttl=100, clock=clock)
    cancelled.add("a", at=clock.now)
    clock.now += 200
    cancelled.add("b", at=clock.now)
    assert len(cancelled) == 1


def test_control_records_requests_tombstones_and_garbage():
    clock = Clock()
    cancelled = CancelledJobs(clock=clock)
    job = str(uuid.uuid4())
    cancelled.apply(job.encode(), CancelRequest(job, clock.now).encode())
    assert job in cancelled
    cancelled.apply(b"x", b"garbage")
    cancelled.apply(None, None)
    assert len(cancelled) == 1
    cancelled.apply(job.encode(), None)  # a tombstone takes the request back
    assert job not in cancelled
