"""The recorder process: consumes clap.events into the database and sweeps the outbox.

Recorders form one consumer group. A job's events are keyed by its id, so they stay
on one partition, and the member that holds a partition is the single writer of its
jobs. The outbox sweep runs in one member only: the one holding partition 0 of the
events topic (SWEEPER_PARTITION). In a rebalance the group's protocol revokes a
partition from its old holder (the callback runs in that member's own poll, in its
record step, so never during a sweep) before assigning it anew, so two sweeps
never overlap in a working group; a member cut off from the group may still sweep
until it notices, and that is harmless: a job published twice is performed and
recorded once (workers and recording are idempotent).

Loop steps are methods returning True when they did work, so tests drive them
directly and the command only adds the loop and signal handling.
"""

import logging
import socket
import time
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from confluent_kafka import Consumer, Message, TopicPartition
from django.conf import settings
from django.db import DatabaseError, close_old_connections

from streams import messages, tracing
from streams.consume import poll_batch
from webapp.claps import admission
from webapp.claps.job_state import record
from webapp.claps.models import ClapJob
from webapp.claps.publisher import Publisher
from webapp.claps.recorder_metrics import RecorderMetrics
from webapp.claps.services import forget_idempotency_keys

log = logging.getLogger(__name__)
SWEEPER_PARTITION = 0


class Recorder:
    def __init__(
        self,
        kafka=None,
        *,
        batch_size: int = 500,
        publisher: Publisher | None = None,
        metrics: RecorderMetrics | None = None,
    ):
        self.kafka = kafka or settings.KAFKA
        self.metrics = metrics or RecorderMetrics()
        self.batch_size = batch_size
        self.consumer = Consumer(
            self.kafka.consumer(
                self.kafka.recorder_group,
                logger=log,
                **{"client.id": f"recorder@{socket.gethostname()}"},
            )
        )
        self.partitions: set[int] = set()  # of the events topic, held now
        self.consumer.subscribe(
            [self.kafka.topics.events],
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_revoke,
        )
        self.publisher = publisher or Publisher(self.kafka)
        self.db_failures = 0
        self._next_sweep = 0.0

    @property
    def sweeps(self) -> bool:
        """Whether this member is the group's outbox sweeper now."""
        return SWEEPER_PARTITION in self.partitions

    def _on_assign(self, _consumer, partitions: list[TopicPartition]) -> None:
        self.partitions |= {tp.partition for tp in partitions}
        log.info("recording partitions %s%s", sorted(self.partitions), self._sweeper_note())

    def _on_revoke(self, _consumer, partitions: list[TopicPartition]) -> None:
        self.partitions -= {tp.partition for tp in partitions}

    def _sweeper_note(self) -> str:
        return " (and sweeping the outbox)" if self.sweeps else ""

    def record_step(self, timeout: float = 0.5) -> bool:
        batch = poll_batch(self.consumer, timeout, self.batch_size, log)
        if not batch:
            return False
        events, last, sources = [], {}, {}
        for msg in batch:
            last[(msg.topic(), msg.partition())] = msg
            try:
                event = messages.JobEvent.decode(msg.value())
                events.append(event)
                sources[event.job] = msg
            except messages.MalformedMessage as exc:
                self.metrics.malformed.inc()
                log.warning(
                    "skipping malformed event at %s/%s@%s: %s",
                    msg.topic(),
                    msg.partition(),
                    msg.offset(),
                    exc,
                )
        started = time.time()
        try:
            record(events)
        except DatabaseError as exc:
            self.metrics.database_failures.inc()
            self._rewind(batch, exc)
            return False
        self._count(events)
        self._trace(events, sources, started, time.time())
        self.db_failures = 0
        for msg in self._held(last.values()):
            self.consumer.store_offsets(msg)
        return True

    def _held(self, batch: Iterable[Message]) -> list[Message]:
        """The messages of partitions this member still holds. A rebalance may revoke a
        partition inside poll_batch, after its first messages came: storing or seeking
        its offsets then raises. Its events were written anyway, harmlessly (every
        writer locks the job's row and applies only newer events); its new holder reads
        them again from the last commit."""
        return [msg for msg in batch if msg.partition() in self.partitions]

    def _count(self, events: list[messages.JobEvent]) -> None:
        written = messages.now()
        for event in events:
            self.metrics.events.labels(event.type).inc()
            self.metrics.delay.observe(max(0.0, written - event.at))

    def _trace(self, events: list[messages.JobEvent], sources: dict, started: float, ended: float):
        """The write in each job's trace (a span per job: one transaction served many
        traces), and a debug line per job that names its trace."""
        debug = log.isEnabledFor(logging.DEBUG)
        if not (debug or tracing.exporting()):
            return
        for job, count in Counter(e.job for e in events).items():
            msg = sources[job]
            context = tracing.record_span(
                "record events",
                tracing.from_message(msg),
                started,
                ended,
                kind="consumer",
                **{"clapstream.job_id": job, "clapstream.events": count},
            )
            if debug:
                with tracing.about_message(msg), tracing.as_current(context):
                    log.debug("recorded %d event(s) of job %s", count, job)

    def _rewind(self, batch, exc: Exception) -> None:
        """The database is away: read the same events again once it is back."""
        self.db_failures += 1
        first: dict[tuple[str, int], int] = {}
        for msg in self._held(batch):
            first.setdefault((msg.topic(), msg.partition()), msg.offset())
        for (topic, partition), offset in first.items():
            self.consumer.seek(TopicPartition(topic, partition, offset))
        close_old_connections()
        pause = min(5.0, 0.2 * 2 ** min(self.db_failures, 5))
        log.warning("database unavailable (%s); retrying in %.1f s", exc, pause)
        time.sleep(pause)  # backoff, not synchronisation

    def sweep_step(self, min_age: float = 10.0, limit: int = 1000) -> int:
        """Publish again the accepted jobs Kafka never acknowledged. Returns how many."""
        if self.publisher.jobs_in_flight():
            # The last sweep's copies are still on their way (Kafka is down or slow):
            # another copy of each would only multiply the work of the workers.
            return 0
        cutoff = datetime.now(UTC) - timedelta(seconds=min_age)
        try:
            stale = list(  # oldest first: a backlog drains in the order it was accepted
                ClapJob.objects.filter(published_at__isnull=True, created_at__lt=cutoff).order_by(
                    "created_at"
                )[:limit]
            )
        except DatabaseError as exc:
            log.warning("sweep skipped, database unavailable: %s", exc)
            close_old_connections()
            return 0
        for job in stale:
            self.publisher.publish_job(job)
        self.metrics.republished.inc(len(stale))
        if stale:
            log.info("republished %d job(s) from the outbox", len(stale))
        return len(stale)

    def maybe_sweep(self, interval: float) -> None:
        if self.sweeps and time.monotonic() >= self._next_sweep:
            self.sweep_step()
            self.forget_expired()
            self._next_sweep = time.monotonic() + interval

    def forget_expired(self) -> None:
        """Admission windows that ended, idempotency keys older than a day."""
        try:
            admission.forget_expired()
            forget_idempotency_keys()
        except DatabaseError as exc:
            log.warning("expired admission counts and keys kept for now: %s", exc)
            close_old_connections()

    def close(self) -> None:
        self.consumer.close()
        self.publisher.close()
