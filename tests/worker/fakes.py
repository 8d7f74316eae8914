"""Stand-ins for Kafka-facing parts, for unit tests of the worker's logic."""

import threading

from worker.offsets import Lease, Ticket


class FakeMessage:
    def __init__(self, value, offset=0, partition=0, key=None, topic="jobs", headers=None):
        self._value, self._offset, self._partition = value, offset, partition
        self._key, self._topic, self._headers = key, topic, headers

    def headers(self):
        return self._headers

    def value(self):
        return self._value

    def key(self):
        return self._key

    def offset(self):
        return self._offset

    def partition(self):
        return self._partition

    def topic(self):
        return self._topic


def ticket(value=b"", offset=0, lease=None, headers=None) -> Ticket:
    return Ticket(lease or Lease("jobs", 0), FakeMessage(value, offset, headers=headers))


class RecordingEnd(threading.Event):
    """A lease's `ended` event that records how long it was waited on."""

    def __init__(self):
        super().__init__()
        self.waits: list[float] = []

    def wait(self, timeout=None):
        self.waits.append(timeout)
        return self.is_set()


class FakeReport:
    def __init__(self, calls):
        self.calls = calls

    def __getattr__(self, kind):
        return lambda *args, **fields: self.calls.append((kind, args, fields))


class FakeReporter:
    """Records what a Performer reports, in order."""

    def __init__(self):
        self.calls: list[tuple] = []

    def pickup(self, ticket, job):
        return FakeReport(self.calls)

    def malformed(self, ticket, reason):
        self.calls.append(("malformed", (reason,), {}))

    def kinds(self) -> list[str]:
        return [kind for kind, _, _ in self.calls]
