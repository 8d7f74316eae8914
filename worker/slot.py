"""Concurrency inside one worker: a few slot threads, each owning whole partitions.

A partition is always handled by one slot, so its jobs run in offset order. A slot
holds a bounded backlog, measured in time: about `backlog_seconds` of work at the
pace its recent jobs took (at least 2 and at most 10,000 jobs). When it is full the
poll loop pauses the slot's partitions, and resumes them once half of it is done.
Resuming makes librdkafka fetch again, which takes about half a second to a second,
so the half left over keeps the slot busy meanwhile.
"""

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable

from worker.offsets import Lease, Ticket

log = logging.getLogger(__name__)

MIN_QUEUED, MAX_QUEUED = 2, 10_000
SMOOTHING = 0.05  # jobs vary and threads share the GIL: average over ~20 jobs


class Slot:
    def __init__(
        self,
        index: int,
        handle: Callable[[Ticket], object],
        on_crash: Callable[[BaseException], None],
        room: threading.Event,
        backlog_seconds: float,
        first_guess: float,
    ) -> None:
        self.index = index
        self._handle = handle
        self._on_crash = on_crash
        self._room = room
        self.backlog_seconds = backlog_seconds
        self.job_seconds = first_guess  # then a moving average of the jobs timed here
        self._queue: deque[Ticket] = deque()
        self._current: Ticket | None = None
        self._stopping = False
        self._cond = threading.Condition()
        self.thread = threading.Thread(target=self._run, name=f"slot-{index}", daemon=True)

    @property
    def limit(self) -> int:
        """How many jobs may wait in this slot."""
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

    def put(self, ticket: Ticket) -> None:
        with self._cond:
            self._queue.append(ticket)
            self._cond.notify_all()

    def drop(self, leases: set[Lease]) -> None:
        """Forget queued work of these leases (their messages will be redelivered)."""
        with self._cond:
            self._queue = deque(t for t in self._queue if t.lease not in leases)

    def wait_until_free_of(self, leases: set[Lease], timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(
                lambda: self._current is None or self._current.lease not in leases, timeout
            )

    def stop(self) -> None:
        """Take no more work; the running job stops by itself (its lease has ended)."""
        with self._cond:
            self._stopping = True
            self._queue.clear()
            self._cond.notify_all()

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
            log.exception("slot %d crashed", self.index)
            self._on_crash(exc)
        finally:
            with self._cond:
                self._current = None
                self._cond.notify_all()


class Slots:
    """The slots of one worker, and which slot each partition belongs to."""

    def __init__(
        self,
        count: int,
        handle: Callable[[Ticket], object],
        on_crash: Callable[[BaseException], None],
        backlog_seconds: float,
        first_guess: float,
    ) -> None:
        """`first_guess`: seconds per job until the slots have timed some."""
        self.room = threading.Event()  # set when a slot has drained to half its backlog
        self.slots = [
            Slot(i, handle, on_crash, self.room, backlog_seconds, first_guess) for i in range(count)
        ]
        # A partition keeps its slot across reassignments, so a job of it that is still
        # winding down can never overlap its redelivery on another slot.
        self._homes: dict[tuple[str, int], int] = {}

    def start(self) -> None:
        for slot in self.slots:
            slot.thread.start()

    def home(self, key: tuple[str, int], held: Iterable[Lease]) -> int:
        """The slot for a newly assigned partition: its old one, else the least loaded."""
        if key not in self._homes:
            load = [0] * len(self.slots)
            for other in held:
                load[other.slot] += 1
            self._homes[key] = min(range(len(self.slots)), key=load.__getitem__)
        return self._homes[key]

    def dispatch(self, ticket: Ticket) -> Slot:
        slot = self.slots[ticket.lease.slot]
        slot.put(ticket)
        return slot

    def release(self, leases: set[Lease], timeout: float) -> bool:
        """Drop queued work of ended leases and wait until no slot still runs a job of
        them (it stops at its next clap boundary). False if one is still running."""
        deadline = time.monotonic() + timeout
        for slot in self.slots:
            slot.drop(leases)
        return all(
            slot.wait_until_free_of(leases, max(0.0, deadline - time.monotonic()))
            for slot in self.slots
        )

    def stop(self, timeout: float) -> bool:
        """Stop every slot and wait for them; False if one did not stop in time."""
        deadline = time.monotonic() + timeout
        for slot in self.slots:
            slot.stop()
        for slot in self.slots:
            if slot.thread.ident is not None:
                slot.thread.join(max(0.0, deadline - time.monotonic()))
        return not any(slot.thread.is_alive() for slot in self.slots)
