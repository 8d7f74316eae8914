"""Bounded logging of a Kafka client's complaints.

While a broker is down, librdkafka reports every reconnection attempt of every
client (hundreds of lines a minute). The first complaint says the broker is gone;
after it, one line per interval, counting what it held back, says it still is.
"""

import logging
import time
from collections.abc import Callable


class Throttle(logging.Filter):
    """Passes records of loggers under `prefix` at WARNING or above at most once per
    `every` seconds; the next one passed says how many were held back."""

    def __init__(
        self, prefix: str, every: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.prefix = prefix
        self.every = every
        self._clock = clock
        self._next = float("-inf")
        self._held = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or not record.name.startswith(self.prefix):
            return True
        now = self._clock()
        if now < self._next:
            self._held += 1
            return False
        self._next = now + self.every
        if self._held:
            record.msg = f"{record.getMessage()} ({self._held} more held back)"
            record.args = None
            self._held = 0
        return True
