"""Publishing to Kafka from the web site: jobs (the outbox), cancel requests.

One idempotent producer per process. Delivery reports, served by a background poll
thread, stamp the job row with published time, partition and offset. A job whose
publish failed keeps published_at NULL and the recorder's sweeper tries again, so
nothing accepted is lost; a second publish of the same job is harmless because
workers and the recorder are idempotent.
"""

import logging
import threading
from datetime import UTC, datetime
from functools import cache

from confluent_kafka import KafkaError, KafkaException, Producer
from django.conf import settings
from django.db import DatabaseError, close_old_connections

from streams import logs, messages, tracing
from webapp.claps.models import ClapJob

log = logging.getLogger(__name__)


class PublishError(RuntimeError):
    """Kafka did not acknowledge a message that had to be confirmed at once."""


class Publisher:
    def __init__(self, kafka=None):
        self.kafka = kafka or settings.KAFKA
        # Give up on a message after 2 minutes; the sweeper republishes the job later.
        self.producer = Producer(self.kafka.producer(**{"message.timeout.ms": 120_000}, logger=log))
        self._closed = threading.Event()
        self._jobs_in_flight = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._serve_reports, name="kafka-delivery", daemon=True).start()

    def _serve_reports(self) -> None:
        while not self._closed.is_set():
            self.producer.poll(0.2)

    def publish_job(self, job: ClapJob) -> None:
        """Queue the job's message, in its trace; its delivery report marks the row
        published."""
        topic = self.kafka.topics.jobs
        self._count_in_flight(+1)  # before produce: the report may come back at once
        with (
            logs.job_context(job_id=str(job.id), topic=topic),
            tracing.span(
                "publish",
                tracing.TraceContext.parse(job.traceparent),
                kind="producer",
                **{"messaging.system": "kafka", "messaging.destination.name": topic},
            ) as span,
        ):
            try:
                self.producer.produce(
                    topic,
                    key=str(job.id),
                    value=job.to_message().encode(),
                    headers=tracing.headers(span.context),
                    # Delivery reports carry no headers: the trace rides along here.
                    on_delivery=lambda err, msg, trace=span.context: self._job_delivered(
                        err, msg, trace
                    ),
                )
            except (BufferError, KafkaException) as exc:
                self._count_in_flight(-1)
                span.fail(str(exc))
                log.warning("job %s stays in the outbox: %s", job.id, exc)

    def jobs_in_flight(self) -> int:
        """Jobs handed to Kafka whose delivery report has not come back yet."""
        return self._jobs_in_flight

    def _count_in_flight(self, change: int) -> None:
        with self._lock:
            self._jobs_in_flight += change

    def _job_delivered(self, err: KafkaError | None, msg, trace: tracing.TraceContext) -> None:
        self._count_in_flight(-1)
        with tracing.about_message(msg), tracing.as_current(trace):
            self._mark_published(err, msg, msg.key().decode())

    def _mark_published(self, err: KafkaError | None, msg, job_id: str) -> None:
        if err is not None:
            log.warning("job %s not published (%s); the sweeper will retry", job_id, err)
            return
        # One connection for all reports, kept until it fails: reconnecting for each
        # (what CONN_MAX_AGE=0 asks of requests) made the reports fall behind the
        # submissions under load, and the sweeper republished every job not marked yet.
        try:
            ClapJob.objects.filter(id=job_id, published_at__isnull=True).update(
                published_at=datetime.now(UTC), partition=msg.partition(), offset=msg.offset()
            )
            log.debug("job %s published", job_id)
        except DatabaseError as exc:
            # Raising here would end the delivery thread for good (poll() re-raises).
            # The row stays unpublished; the sweeper publishes it again, harmlessly.
            log.warning("job %s published but not marked so (%s)", job_id, exc)
            close_old_connections()

    def publish_cancel(self, job_id: str, timeout: float = 5.0) -> None:
        """Tell the workers to stop the job and announce it cancelled; confirmed or raises."""
        at = messages.now()
        cancelled = messages.JobEvent(
            job=job_id,
            type=messages.CANCELLED,
            seq=messages.last_seq_of(messages.now_ms()),
            at=at,
            error="cancelled by its owner",
        )
        errors: list[KafkaError] = []

        def confirm(err, _msg):
            if err is not None:
                errors.append(err)

        self.producer.produce(
            self.kafka.topics.control,
            key=job_id,
            value=messages.CancelRequest(job_id, at).encode(),
            on_delivery=confirm,
        )
        self.producer.produce(
            self.kafka.topics.events, key=job_id, value=cancelled.encode(), on_delivery=confirm
        )
        if self.producer.flush(timeout) > 0 or errors:
            raise PublishError(f"Kafka did not confirm the cancel request: {errors or 'timeout'}")

    def flush(self, timeout: float = 10.0) -> int:
        return self.producer.flush(timeout)

    def close(self) -> None:
        self.flush()
        self._closed.set()


@cache
def publisher() -> Publisher:
    """The process's publisher, created on first use."""
    return Publisher()


def reset_publisher() -> None:
    """Close the process's publisher, if any; the next use builds one from settings."""
    if publisher.cache_info().currsize:
        publisher().close()
    publisher.cache_clear()
