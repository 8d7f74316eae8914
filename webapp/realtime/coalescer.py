"""Holding back progress so a fast job cannot flood its sockets.

Each job passes at most one progress event per interval, always its newest; every
other event (running, done, failed, cancelled) passes at once and is never dropped.
"""

from streams import messages


class Coalescer:
    def __init__(self, interval: float = 0.1):
        self.interval = interval
        self._sent_at: dict[str, float] = {}  # jobs that passed a progress this interval
        self._held: dict[str, messages.JobEvent] = {}  # their newest progress since

    def offer(self, event: messages.JobEvent, now: float) -> list[messages.JobEvent]:
        """The events to send now because of this one (none if it is held back)."""
        job = event.job
        if event.type != messages.PROGRESS:
            held = self._held.get(job)
            if held is not None and held.seq < event.seq:
                del self._held[job]  # superseded: the event says as much or more
            return [event]
        sent_at = self._sent_at.get(job)
        if sent_at is not None and now - sent_at < self.interval:
            held = self._held.get(job)
            if held is None or held.seq < event.seq:
                self._held[job] = event
            return []
        self._sent_at[job] = now
        return [event]

    def due(self, now: float) -> list[messages.JobEvent]:
        """Held progress whose interval is over; forgets jobs that went quiet."""
        ready = []
        for job, sent_at in list(self._sent_at.items()):
            if now - sent_at < self.interval:
                continue
            held = self._held.pop(job, None)
            if held is None:
                del self._sent_at[job]
            else:
                self._sent_at[job] = now
                ready.append(held)
        return ready

    def wait(self, now: float, idle: float) -> float:
        """How long the caller may block before something held becomes due."""
        if not self._held:
            return idle
        earliest = min(self._sent_at[job] for job in self._held)
        return max(0.0, min(idle, earliest + self.interval - now))
