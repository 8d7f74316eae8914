"""Which offsets of a partition may be stored: the contiguous watermark of finished work.

A job's outcome goes to the events partition of its job id, so the delivery reports
of one jobs partition come back in any order. Only the offset below which everything
is confirmed is safe to store (at-least-once).
"""

import threading
from collections import deque
from dataclasses import dataclass, field

from confluent_kafka import Message


class Watermark:
    """Offsets handed out for work, in order, and which of them are finished."""

    def __init__(self) -> None:
        self._pending: deque[int] = deque()
        self._open: set[int] = set()  # _pending as a set: finish() runs once per job
        self._finished: set[int] = set()
        self.stored: int | None = None  # the last watermark returned by finish()

    def begin(self, offset: int) -> None:
        if self._pending and offset <= self._pending[-1]:
            raise ValueError(f"offset {offset} does not follow {self._pending[-1]}")
        self._pending.append(offset)
        self._open.add(offset)

    def finish(self, offset: int) -> int | None:
        """Mark an offset finished; return the new watermark (next offset) if it moved."""
        if offset not in self._open or offset in self._finished:
            return None
        self._finished.add(offset)
        moved = None
        while self._pending and self._pending[0] in self._finished:
            done = self._pending.popleft()
            self._finished.discard(done)
            self._open.discard(done)
            moved = done + 1
        if moved is not None:
            self.stored = moved
        return moved


@dataclass(eq=False)
class Lease:
    """One jobs partition, held by this worker for one assignment.

    `ended` is set when the partition is revoked or lost, or the worker stops: work on
    it then stops at the next clap boundary and is not stored (so it is redelivered).
    """

    topic: str
    partition: int
    watermark: Watermark = field(default_factory=Watermark)
    ended: threading.Event = field(default_factory=threading.Event)
    paused: bool = False


@dataclass(frozen=True, eq=False)
class Ticket:
    """A polled message and the lease it was polled under."""

    lease: Lease
    message: Message

    @property
    def offset(self) -> int:
        return self.message.offset()

    @property
    def stopped(self) -> bool:
        return self.lease.ended.is_set()
