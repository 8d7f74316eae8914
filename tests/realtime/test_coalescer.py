"""Progress is held back to one per job per interval, always the newest; nothing else
is ever held or dropped."""

import uuid

from streams import messages
from webapp.realtime.coalescer import Coalescer

JOB, OTHER = str(uuid.uuid4()), str(uuid.uuid4())


def event(kind, n, job=JOB, done=None):
    return messages.JobEvent(job=job, type=kind, seq=1000 + n, at=0.0, done=done)


def progress(n, job=JOB):
    return event(messages.PROGRESS, n, job, done=n)


def test_the_first_progress_passes_then_only_the_newest_per_interval():
    c = Coalescer(interval=0.1)
    assert c.offer(progress(1), now=0.0) == [progress(1)]
    assert c.offer(progress(2), now=0.01) == []
    assert c.offer(progress(3), now=0.02) == []
    assert c.due(now=0.05) == []
    assert c.due(now=0.1) == [progress(3)]
    assert c.due(now=0.3) == []


def test_jobs_are_limited_separately():
    c = Coalescer(interval=0.1)
    assert c.offer(progress(1), now=0.0) == [progress(1)]
    assert c.offer(progress(1, OTHER), now=0.01) == [progress(1, OTHER)]


def test_a_progress_after_a_quiet_interval_passes_at_once():
    c = Coalescer(interval=0.1)
    c.offer(progress(1), now=0.0)
    assert c.due(now=0.2) == []
    assert c.offer(progress(2), now=0.25) == [progress(2)]


def test_other_events_pass_at_once_and_supersede_held_progress():
    c = Coalescer(interval=0.1)
    c.offer(progress(1), now=0.0)
    c.offer(progress(2), now=0.01)
    done = event(messages.DONE, 3)
    assert c.offer(done, now=0.02) == [done]
    assert c.due(now=1.0) == []


def test_a_final_event_is_never_held_even_in_a_flood():
    c = Coalescer(interval=0.1)
    sent = []
    for n in range(1, 101):
        sent += c.offer(progress(n), now=n * 0.001)
    failed = event(messages.FAILED, 101)
    sent += c.offer(failed, now=0.101)
    sent += c.due(now=0.2)
    assert sent == [progress(1), failed]


def test_wait_says_when_held_progress_is_due():
    c = Coalescer(interval=0.1)
    assert c.wait(now=0.0, idle=0.5) == 0.5
    c.offer(progress(1), now=0.0)
    c.offer(progress(2), now=0.03)
    assert abs(c.wait(now=0.03, idle=0.5) - 0.07) < 1e-9
