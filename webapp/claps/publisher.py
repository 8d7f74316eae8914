"""Publishing to Kafka from the web site: jobs (the outbox), cancel requests.

One idempotent producer per process. Delivery reports, served by a background thread
every MARK_EVERY seconds, stamp the job rows with published time, partition and offset,
one transaction for the reports of each such interval. A job whose publish failed keeps
published_at NULL and the recorder's sweeper tries again, so nothing accepted is lost;
a second publish of the same job is harmless because workers and the recorder are
idempotent.
"""

import contextlib
import logging
import threading
from datetime import UTC, datetime
from functools import cache

from confluent_kafka import KafkaError, KafkaException, Producer
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction

from streams import logs, messages, tracing
from webapp.claps.models import ClapJob
from webapp.claps.owners import feed_of
from webapp.claps.row_updates import update_each

log = logging.getLogger(__name__)
MARK_BATCH = 500  # rows per transaction, so their locks are held briefly
# Serving reports as they came (poll returns at the first one) made a transaction, and
# so a commit, for nearly every job: more of PostgreSQL's CPU per submission than the
# insert. The sweeper waits far longer than this for a report (its min_age).
MARK_EVERY = 0.1  # seconds


class PublishError(RuntimeError):
    """Kafka did not acknowledge a message that had to be confirmed at once."""


class Publisher:
    def __init__(self, kafka=None, **overrides):
        self.kafka = kafka or settings.KAFKA
        # Give up on a message after 2 minutes; the sweeper republishes the job later.
        overrides = {"message.timeout.ms": 120_000, **overrides}
        self._config = self.kafka.producer(**overrides, logger=log)
        self.producer = Producer(self._config)
        self._replacing = threading.Lock()
        self._closed = threading.Event()
        self._jobs_in_flight = 0
        self._lock = threading.Lock()
        self._delivered: list[tuple[str, int, int, tracing.TraceContext]] = []
        self._reports = threading.Thread(
            target=self._serve_reports, name="kafka-delivery", daemon=True
        )
        self._reports.start()

    def _serve_reports(self) -> None:
        while not self._closed.wait(MARK_EVERY):
            self._serve(lambda producer: producer.poll(0))  # every report queued since
            self._mark_published()
        self._mark_published()  # what close()'s flush delivered
        connection.close()  # the thread's own: back to the pool on PostgreSQL

    def _serve(self, call):
        """call(producer), replacing the producer if it reports a fatal error: an
        idempotent producer that lost its guarantee (librdkafka's fatal errors) refuses
        every message from then on, and the site would accept jobs only the sweeper
        could publish, a sweep that waits for reports that never come."""
        producer = self.producer
        try:
            return call(producer)
        except KafkaException as exc:
            if not _is_fatal(exc):
                raise
            self._replace(producer, exc.args[0])
            return 0

    def _replace(self, failed: Producer, reason) -> None:
        with self._replacing:
            if failed is not self.producer:  # another thread was first
                return
            self.producer = Producer(self._config)
        log.error("Kafka producer failed for good (%s): replaced", reason)
        # Its messages fail now (counted out of flight, their jobs left in the outbox
        # for the sweeper) rather than never.
        failed.purge()
        with contextlib.suppress(KafkaException):
            failed.poll(0)

    def _note_refusal(self, producer: Producer, exc: Exception) -> None:
        if isinstance(exc, KafkaException) and _is_fatal(exc):
            self._replace(producer, exc.args[0])

    def publish_job(self, job: ClapJob) -> None:
        """Queue the job's message, in its trace; its delivery report marks the row
        published."""
        topic = self.kafka.topics.jobs
        producer = self.producer
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
                producer.produce(
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
                self._note_refusal(producer, exc)

    def jobs_in_flight(self) -> int:
        """Jobs handed to Kafka whose delivery report has not come back yet."""
        return self._jobs_in_flight

    def _count_in_flight(self, change: int) -> None:
        with self._lock:
            self._jobs_in_flight += change

    def _job_delivered(self, err: KafkaError | None, msg, trace: tracing.TraceContext) -> None:
        self._count_in_flight(-1)
        if err is not None:
            with tracing.about_message(msg), tracing.as_current(trace):
                log.warning(
                    "job %s not published (%s); the sweeper will retry", msg.key().decode(), err
                )
            return
        with self._lock:  # reports are served by whichever thread polls or flushes
            self._delivered.append((msg.key().decode(), msg.partition(), msg.offset(), trace))

    def _mark_published(self) -> None:
        """Stamp the rows of the jobs delivered since the last call, MARK_BATCH per
        transaction. A transaction per report kept the reports behind the submissions
        under load, and the sweeper republished every job not marked yet (each ran
        twice)."""
        with self._lock:
            delivered, self._delivered = self._delivered, []
        for start in range(0, len(delivered), MARK_BATCH):
            self._mark(delivered[start : start + MARK_BATCH])

    def _mark(self, delivered: list[tuple[str, int, int, tracing.TraceContext]]) -> None:
        # One connection for all reports, kept until it fails: reconnecting for each
        # batch (what CONN_MAX_AGE=0 asks of requests) is what fell behind before.
        now = datetime.now(UTC)
        rows = [
            ClapJob(id=job_id, published_at=now, partition=partition, offset=offset)
            for job_id, partition, offset, _ in delivered
        ]
        try:
            with transaction.atomic():
                update_each(
                    rows, ["published_at", "partition", "offset"], unless_set="published_at"
                )
        except DatabaseError as exc:
            # Raising here would end the delivery thread for good (poll() re-raises).
            # The rows stay unpublished; the sweeper publishes them again, harmlessly.
            log.warning("%d job(s) published but not marked so (%s)", len(delivered), exc)
            close_old_connections()
            return
        if log.isEnabledFor(logging.DEBUG):
            for job_id, partition, offset, trace in delivered:
                with (
                    logs.job_context(job_id=job_id, partition=partition, offset=offset),
                    tracing.as_current(trace),
                ):
                    log.debug("job %s published", job_id)

    def publish_cancel(self, job: ClapJob, timeout: float = 5.0) -> None:
        """Tell the workers to stop the job and announce it cancelled; confirmed or raises."""
        job_id, at = str(job.id), messages.now()
        cancelled = messages.JobEvent(
            job=job_id,
            type=messages.CANCELLED,
            seq=messages.last_seq_of(messages.now_ms()),
            at=at,
            error="cancelled by its owner",
            feed=feed_of(job.owner),
        )
        reports: list[KafkaError | None] = []
        both = threading.Event()

        def confirm(err, _msg):
            reports.append(err)
            if len(reports) == 2:
                both.set()

        producer = self.producer
        try:
            producer.produce(
                self.kafka.topics.control,
                key=job_id,
                value=messages.CancelRequest(job_id, at).encode(),
                on_delivery=confirm,
            )
            producer.produce(
                self.kafka.topics.events, key=job_id, value=cancelled.encode(), on_delivery=confirm
            )
        except (BufferError, KafkaException) as exc:
            self._note_refusal(producer, exc)
            raise PublishError(f"Kafka refused the cancel request: {exc}") from exc
        # Its own two reports (served by the reports thread), not a flush: that would
        # wait for every job in flight too.
        confirmed = both.wait(timeout)
        errors = [err for err in reports if err is not None]
        if not confirmed or errors:
            raise PublishError(f"Kafka did not confirm the cancel request: {errors or 'timeout'}")

    def flush(self, timeout: float = 10.0) -> int:
        """Wait for every delivery report, and mark the delivered jobs published."""
        left = self._serve(lambda producer: producer.flush(timeout))
        self._mark_published()
        return left

    def close(self) -> None:
        self.flush()
        self._closed.set()
        self._reports.join(5.0)


def _is_fatal(exc: KafkaException) -> bool:
    # poll() and flush() raise the fatal error itself; produce() afterwards, _FATAL.
    error = exc.args[0]
    return isinstance(error, KafkaError) and (error.fatal() or error.code() == KafkaError._FATAL)


@cache
def publisher() -> Publisher:
    """The process's publisher, created on first use."""
    return Publisher()


def reset_publisher() -> None:
    """Close the process's publisher, if any; the next use builds one from settings."""
    if publisher.cache_info().currsize:
        publisher().close()
    publisher.cache_clear()
