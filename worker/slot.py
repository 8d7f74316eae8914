"""The worker's job thread, its bounded backlog and the flow control around it.

The poll loop hands jobs to one thread that performs them in the order polled, so
each partition's jobs run in offset order while the loop stays responsive. The
backlog is measured in time: about `backlog_seconds` of work at the pace recent jobs
took (at least 2 and at most 10,000 jobs). When it is full the slot pauses the
worker's partitions, and resumes them once half of it is done. Resuming makes
librdkafka fetch again, which takes about half a second to a second, so the half
left over keeps the thread busy meanwhile.

More work per worker comes from more workers (one per partition at most), not from
more threads: the scaling the autoscaler measures and drives.
"""

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Collection

from confluent_kafka import KafkaException, TopicPartition

from worker.offsets import Lease, Ticket

log = logging.getLogger(__name__)

MIN_QUEUED, MAX_QUEUED = 2, 10_000
SMOOTHING = 0.05  # jobs vary: average over ~20 jobs


class Slot:
    def __init__(
        self,
        handle: Callable[[Ticket], object],
        on_crash: Callable[[BaseException], None],
        consumer,
        backlog_seconds: float,
        first_guess: float,
    ) -> None:
        """`consumer` pauses and resumes partitions; `first_guess`: seconds per job
        until the slot has timed some."""
        self._handle = handle
        self._on_crash = on_crash
        self._consumer = consumer
        self.backlog_seconds = backlog_seconds
        self.job_seconds = first_guess  # then a moving average of the jobs timed here
        self._room = threading.Event()  # set when the backlog has drained to half
        self._queue: deque[Ticket] = deque()
        self._current: Ticket | None = None
        self._stopping = False
        self._cond = threading.Condition()
        self.thread = threading.Thread(target=self._run, name="slot", daemon=True)

    # -- the backlog ------------------------------------------------------------------

    @property
    def limit(self) -> int:
        """How many jobs may wait."""
        return max(MIN_QUEUED, min(MAX_QUEUED, int(self.backlog_seconds / self.job_seconds)))

    @property
    def queued(self) -> int:
        return len(self._queue)

    @property
    def full(self) -> bool:
        return self.queued >= self.limit

    @property
    def drained(self) -> bool:
        return self.queued <= self.limit // 2

    # -- flow control (called by the poll loop) -----------------------------------------

    def dispatch(self, ticket: Ticket, leases: Collection[Lease]) -> None:
        """Queue a polled job; a full backlog pauses the partitions."""
        with self._cond:
            self._queue.append(ticket)
            self._cond.notify_all()
        if self.full:
            self._pause(leases, True)

    def poll_timeout(self, leases: Collection[Lease], longest: float) -> float:
        """Before each poll: resume the partitions once the backlog has drained. While
        they stay paused nothing may be fetched, so wait here (up to `longest`) for
        room and return 0 (the poll still serves the group); else return `longest`."""
        self._room.clear()
        if self.drained:
            self._pause(leases, False)
        if leases and all(lease.paused for lease in leases):
            self._room.wait(longest)
            return 0.0
        return longest

    def _pause(self, leases: Collection[Lease], pause: bool) -> None:
        changing = [lease for lease in leases if lease.paused != pause]
        if not changing:
            return
        partitions = [TopicPartition(lease.topic, lease.partition) for lease in changing]
        try:
            (self._consumer.pause if pause else self._consumer.resume)(partitions)
        except KafkaException as exc:
            log.warning("could not %s %s: %s", "pause" if pause else "resume", partitions, exc)
            return
        for lease in changing:
            lease.paused = pause
        log.debug(
            "%s %d partition(s) at %d queued (limit %d)",
            "paused" if pause else "resumed",
            len(changing),
            self.queued,
            self.limit,
        )

    # -- life cycle ---------------------------------------------------------------------

    def start(self) -> None:
        self.thread.start()

    def release(self, leases: set[Lease], timeout: float) -> bool:
        """Drop queued work of ended leases (their messages will be redelivered) and
        wait until the running job is not one of theirs (it stops at its next clap
        boundary). False if it still is."""
        with self._cond:
            self._queue = deque(t for t in self._queue if t.lease not in leases)
            return self._cond.wait_for(
                lambda: self._current is None or self._current.lease not in leases, timeout
            )

    def stop(self, timeout: float) -> bool:
        """Take no more work and wait for the thread (the running job stops by itself:
        its lease has ended). False if it did not stop in time."""
        with self._cond:
            self._stopping = True
            self._queue.clear()
            self._cond.notify_all()
        if self.thread.ident is not None:
            self.thread.join(timeout)
        return not self.thread.is_alive()

    def _next(self) -> Ticket | None:
        with self._cond:
            self._current = None
            self._cond.notify_all()
            while True:
                self._cond.wait_for(lambda: self._queue or self._stopping)
                if self._stopping:
                    return None
                ticket = self._queue.popleft()
                if self.drained:
                    self._room.set()
                if not ticket.stopped:
                    self._current = ticket
                    return ticket

    def _run(self) -> None:
        try:
            while (ticket := self._next()) is not None:
                started = time.monotonic()
                self._handle(ticket)
                self.job_seconds += SMOOTHING * (time.monotonic() - started - self.job_seconds)
        except Exception as exc:  # a bug: stop the worker rather than stall its partitions
            log.exception("the slot crashed")
            self._on_crash(exc)
        finally:
            with self._cond:
                self._current = None
                self._cond.notify_all()
