"""Producing what the worker has to say: job events and dead letters.

Progress is fire-and-forget. A message's outcome (a final event, a dead letter, or
both) is confirmed as a whole: `on_finished(ticket, error)` is called once every
record of it was acknowledged by Kafka, and only then may its offset be stored.
"""

import logging
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from confluent_kafka import KafkaError, KafkaException, Producer

from streams import tracing
from streams.config import KafkaConfig
from streams.messages import (
    CANCELLED,
    DLQ_ATTEMPTS,
    DLQ_ERROR,
    DLQ_FAILED_AT,
    DLQ_LEFT_OUT,
    DLQ_OFFSET,
    DLQ_PARTITION,
    DLQ_TOPIC,
    DONE,
    FAILED,
    PROGRESS,
    RUNNING,
    JobEvent,
    JobRequest,
    deflate,
    now,
    now_ms,
    seq_of,
)
from worker.offsets import Ticket

log = logging.getLogger(__name__)

Finished = Callable[[Ticket, KafkaError | None], None]


class _Outcome:
    """Counts the delivery reports of one message's final records."""

    def __init__(self, ticket: Ticket, records: int, on_finished: Finished) -> None:
        self.ticket = ticket
        self._pending = records
        self._error: KafkaError | None = None
        self._on_finished = on_finished
        self._lock = threading.Lock()

    def delivered(self, error: KafkaError | None, _msg) -> None:
        with self._lock:
            self._pending -= 1
            self._error = self._error or error
            last = self._pending == 0
        if last:
            self._on_finished(self.ticket, self._error)


class Reporter:
    def __init__(
        self, producer: Producer, kafka: KafkaConfig, worker_id: str, on_finished: Finished
    ) -> None:
        self.producer = producer
        self.topics = kafka.topics
        self.worker_id = worker_id
        self.on_finished = on_finished

    def pickup(self, ticket: Ticket, job: JobRequest) -> "JobReport":
        return JobReport(self, ticket, job)

    def malformed(self, ticket: Ticket, reason: str) -> None:
        """Dead-letter a message that could not be decoded (attempts 0: it was never
        tried). If its key is a job id, that job is also reported failed."""
        events = []
        job = _job_id(ticket.message.key())
        if job:
            events.append(
                JobEvent(
                    job=job,
                    type=FAILED,
                    seq=seq_of(now_ms(), 0),
                    at=now(),
                    worker=self.worker_id,
                    error=f"malformed message: {reason}",
                )
            )
        self.finish(ticket, events, dead_letter=(reason, 0))

    def event(self, event: JobEvent) -> None:
        self._produce(self.topics.events, event.job.encode(), event.encode(), self._progress_sent)

    def finish(
        self,
        ticket: Ticket,
        events: list[JobEvent],
        dead_letter: tuple[str, int] | None = None,
    ) -> None:
        outcome = _Outcome(ticket, len(events) + (dead_letter is not None), self.on_finished)
        for event in events:
            self._produce(self.topics.events, event.job.encode(), event.encode(), outcome.delivered)
        if dead_letter is not None:
            error, attempts = dead_letter
            msg = ticket.message
            headers = [
                (DLQ_ERROR, error),
                (DLQ_ATTEMPTS, str(attempts)),
                (DLQ_TOPIC, msg.topic()),
                (DLQ_PARTITION, str(msg.partition())),
                (DLQ_OFFSET, str(msg.offset())),
                (DLQ_FAILED_AT, datetime.now(UTC).isoformat()),
            ]
            self._dead_letter(msg, headers, outcome.delivered)

    def _dead_letter(self, msg, headers, on_delivery) -> None:
        """A copy of the message on the dead-letter topic. A message near the size limit
        no longer fits once the headers are added: then the headers go alone, saying
        what was left out, or the worker would stop on it at every start."""
        key, value = msg.key(), msg.value()
        try:
            self._produce(self.topics.dlq, key, value, on_delivery, headers)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.MSG_SIZE_TOO_LARGE:
                raise
            left_out = f"key ({len(key or b'')} bytes) and value ({len(value or b'')} bytes)"
            noted = [*headers, (DLQ_LEFT_OUT, f"{left_out}: too large to copy")]
            self._produce(self.topics.dlq, None, None, on_delivery, noted)

    def _produce(self, topic, key, value, on_delivery, headers=()) -> None:
        # The job's trace goes on with whatever reads these: the recorder, the relay.
        headers = [*headers, *tracing.headers(tracing.current())]
        while True:
            try:
                self.producer.produce(
                    topic, value=value, key=key, headers=headers, on_delivery=on_delivery
                )
                return
            except BufferError:
                # The local queue is full: serve delivery reports until there is room.
                self.producer.poll(0.1)

    @staticmethod
    def _progress_sent(error: KafkaError | None, msg) -> None:
        if error is not None:
            log.warning("an event for job %s was not delivered: %s", msg.key(), error)


class JobReport:
    """The events of one pick-up of a job, numbered from the pick-up time."""

    def __init__(self, reporter: Reporter, ticket: Ticket, job: JobRequest) -> None:
        self.reporter = reporter
        self.ticket = ticket
        self.job = job
        self.pickup_ms = now_ms()
        self._n = 0

    def _event(self, kind: str, **fields) -> JobEvent:
        event = JobEvent(
            job=self.job.id,
            type=kind,
            seq=seq_of(self.pickup_ms, self._n),
            at=now(),
            worker=self.reporter.worker_id,
            total=self.job.claps,
            feed=self.job.feed,
            **fields,
        )
        self._n += 1
        return event

    def running(self) -> None:
        msg = self.ticket.message
        self.reporter.event(
            self._event(RUNNING, partition=msg.partition(), offset=msg.offset(), done=0)
        )

    def progress(self, done: int) -> None:
        self.reporter.event(self._event(PROGRESS, done=done))

    def done(self, result: bytes) -> None:
        event = self._event(DONE, done=self.job.claps, result_deflated=deflate(result))
        self.reporter.finish(self.ticket, [event])

    def cancelled(self, done: int) -> None:
        event = self._event(CANCELLED, done=done, error="cancel request")
        self.reporter.finish(self.ticket, [event])

    def failed(self, error: str, done: int, attempts: int) -> None:
        event = self._event(FAILED, done=done, error=error)
        self.reporter.finish(self.ticket, [event], dead_letter=(error, attempts))


def _job_id(key: bytes | None) -> str | None:
    try:
        return str(uuid.UUID(key.decode("ascii"))) if key else None
    except (UnicodeDecodeError, ValueError):
        return None
