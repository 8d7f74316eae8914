"""The worker process: the consumer loop, rebalance callbacks and shutdown.

The loop only polls and dispatches (the work runs in the slot's thread), so it stays
responsive. Offsets are stored only for messages whose outcome Kafka confirmed, and
only up to the contiguous watermark of each partition; auto-commit sends them.
"""

import json
import logging
import queue
import signal
from collections.abc import Iterable

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from streams.config import KafkaConfig
from streams.heartbeat import Heartbeat
from worker.cancellations import CancelledJobs, ControlReader
from worker.claps import Performer
from worker.metrics import Metrics
from worker.offsets import Lease, Ticket
from worker.reporter import Reporter
from worker.settings import WorkerSettings
from worker.slot import Slot

log = logging.getLogger(__name__)
kafka_log = logging.getLogger("worker.kafka.client")  # throttled during an outage


def consumer_config(settings: WorkerSettings, kafka: KafkaConfig, **extra) -> dict:
    config = {
        "client.id": settings.worker_id,
        "group.protocol": settings.group_protocol,
        # Lag is measured on committed offsets and drives the autoscaler: commit every
        # second (default 5 s) so the lag trails the work by little.
        "auto.commit.interval.ms": 1000,
        # The group membership the liveness heartbeat depends on (Worker.on_stats).
        "statistics.interval.ms": 2000,
        "logger": logging.getLogger("worker.kafka.consumer"),
        **extra,
    }
    if settings.group_protocol == "classic":
        # KIP-848 assigns on the broker, incrementally; classic needs to be told to.
        config["partition.assignment.strategy"] = "cooperative-sticky"
    if settings.instance_id:
        config["group.instance.id"] = settings.instance_id
    return kafka.consumer(kafka.worker_group, **config)


class Worker:
    POLL_SECONDS = 0.2
    CATCH_UP_SECONDS = 10.0  # at most this long to read pending cancel requests at start
    FLUSH_SECONDS = 5.0

    def __init__(
        self, settings: WorkerSettings, kafka: KafkaConfig, metrics: Metrics | None = None
    ) -> None:
        self.settings = settings
        self.kafka = kafka
        self.metrics = metrics or Metrics()
        self.shutdown = False
        self.exit_code = 0
        self.leases: dict[tuple[str, int], Lease] = {}
        self._stopping = False
        self._finished: queue.SimpleQueue[tuple[Ticket, KafkaError | None]] = queue.SimpleQueue()
        self.cancelled = CancelledJobs()
        self.producer = Producer(
            kafka.producer(
                **{
                    "client.id": settings.worker_id,
                    "logger": logging.getLogger("worker.kafka.producer"),
                    "error_cb": self._on_client_error,
                }
            )
        )
        self.member = False  # a live member of the group: coordinator up, assignment steady
        self.consumer = Consumer(
            consumer_config(settings, kafka, error_cb=self._on_client_error, stats_cb=self.on_stats)
        )
        self.reporter = Reporter(
            self.producer, kafka, settings.worker_id, lambda *done: self._finished.put(done)
        )
        self.performer = Performer(settings, self.reporter, self.cancelled, self.metrics)
        self.slot = Slot(
            self.performer.handle,
            self._on_crash,
            self.consumer,
            settings.backlog_seconds,
            first_guess=max(0.001, settings.clap_work_ms / 1000),  # a job is one clap or more
        )
        self.control = ControlReader(kafka, self.cancelled, settings.worker_id)
        self.heartbeat = Heartbeat(settings.heartbeat_file)

    # -- life cycle -------------------------------------------------------------------

    def run(self) -> int:
        """Run until SIGTERM/SIGINT or a fatal error; return the exit code."""
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        try:
            self.start()
            while not self.shutdown:
                self.step()
        finally:
            code = self.stop()
        return code

    def start(self) -> None:
        self.control.start()
        if not self.control.caught_up.wait(self.CATCH_UP_SECONDS):
            log.warning("cancel requests not read up to date yet; starting anyway")
        self.slot.start()
        self.consumer.subscribe(
            [self.kafka.topics.jobs],
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_lost,
        )
        s = self.settings
        log.info(
            "worker %s consuming %s as %s (%s protocol%s), %d ms per clap",
            s.worker_id,
            self.kafka.topics.jobs,
            self.kafka.worker_group,
            s.group_protocol,
            f", static member {s.instance_id}" if s.instance_id else "",
            s.clap_work_ms,
        )

    def stop(self) -> int:
        """Let running claps finish, store what is confirmed, leave the group."""
        if self._stopping:
            return self.exit_code
        self._stopping = True
        log.info("stopping: taking no new jobs, letting running claps finish")
        for lease in self.leases.values():
            lease.ended.set()
        if not self.slot.stop(self.settings.grace_seconds):
            log.warning("a clap outlasted the %.0f s grace period", self.settings.grace_seconds)
        unsent = self.producer.flush(self.FLUSH_SECONDS)
        if unsent:
            log.error("%d records were not delivered before shutdown", unsent)
        self.store_finished()
        self.consumer.close()  # commits the stored offsets and leaves the group at once
        if self.settings.instance_id:
            log.info(
                "static member %s: the group keeps its partitions until it comes back "
                "or its session times out",
                self.settings.instance_id,
            )
        self.control.stop()
        log.info("worker %s stopped (exit code %d)", self.settings.worker_id, self.exit_code)
        return self.exit_code

    def fail(self, reason: str) -> None:
        log.error("%s: exiting so that a fresh worker takes over", reason)
        self.exit_code = 1
        self.shutdown = True

    # -- the loop ---------------------------------------------------------------------

    def step(self) -> bool:
        """One turn of the poll loop; True if a job was taken."""
        self.store_finished()
        msg = self.consumer.poll(self.slot.poll_timeout(self.leases.values(), self.POLL_SECONDS))
        self.producer.poll(0)
        took = msg is not None and self.take(msg)
        if self.member and not self.shutdown:
            # Only a live member beats: with the broker gone, or the group left
            # (max.poll.interval exceeded, fenced), the heartbeat goes stale and the
            # liveness probe restarts the pod.
            self.heartbeat.beat()
        return took

    def take(self, msg: Message) -> bool:
        error = msg.error()
        if error is not None:
            # A fatal consumer error reaches poll() as code _FATAL with fatal() False,
            # e.g. rejoining under a static instance id whose killed predecessor's
            # session has not expired: the consumer is dead for good.
            if error.code() in (KafkaError._MAX_POLL_EXCEEDED, KafkaError._FATAL) or error.fatal():
                self.fail(f"left the consumer group: {error}")
            else:
                log.warning("consumer: %s", error)
            return False
        lease = self.leases.get((msg.topic(), msg.partition()))
        if lease is None or lease.ended.is_set():
            return False
        lease.watermark.begin(msg.offset())
        self.slot.dispatch(Ticket(lease, msg), self.leases.values())
        return True

    def store_finished(self) -> None:
        """Store the offsets that confirmed outcomes have made safe to commit."""
        watermarks: dict[Lease, int] = {}
        while True:
            try:
                ticket, error = self._finished.get_nowait()
            except queue.Empty:
                break
            lease = ticket.lease
            if error is not None:
                self.fail(
                    f"the outcome of {lease.topic}[{lease.partition}]@{ticket.offset} "
                    f"was not delivered ({error})"
                )
                continue
            if self.leases.get((lease.topic, lease.partition)) is not lease:
                continue  # revoked meanwhile: its new owner performs it again
            moved = lease.watermark.finish(ticket.offset)
            if moved is not None:
                watermarks[lease] = moved
        if watermarks:
            offsets = [TopicPartition(le.topic, le.partition, o) for le, o in watermarks.items()]
            try:
                self.consumer.store_offsets(offsets=offsets)
            except KafkaException as exc:
                log.warning("could not store offsets %s: %s", offsets, exc)

    # -- callbacks --------------------------------------------------------------------

    def _on_assign(self, consumer, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            self.leases[(tp.topic, tp.partition)] = Lease(tp.topic, tp.partition)
        if partitions:
            # librdkafka keeps a partition paused across its revocation: one this worker
            # paused (slot full), lost and got back would never be fetched again.
            consumer.resume(partitions)
            log.info("assigned %s", _names(partitions))

    def _on_revoke(self, _consumer, partitions: list[TopicPartition]) -> None:
        """Hand partitions over cleanly: stop their jobs at a clap boundary, wait for the
        outcomes already produced, and commit before the next owner starts."""
        if not partitions:
            return
        leases = self._end(partitions)
        wait = 0.0 if self._stopping else self.settings.grace_seconds
        if not self.slot.release(leases, wait) and not self._stopping:
            log.warning("a job of a revoked partition is still running; it will be redone")
        self.producer.flush(self.FLUSH_SECONDS)
        self.store_finished()
        offsets = [
            TopicPartition(le.topic, le.partition, le.watermark.stored)
            for le in leases
            if le.watermark.stored is not None
        ]
        if offsets:
            try:
                self.consumer.commit(offsets=offsets, asynchronous=False)
            except KafkaException as exc:
                log.warning("could not commit %s on revocation: %s", offsets, exc)
        self._forget(leases)
        log.info("revoked %s", _names(partitions))

    def _on_lost(self, _consumer, partitions: list[TopicPartition]) -> None:
        leases = self._end(partitions)
        self.slot.release(leases, 0.0)
        self._forget(leases)
        log.warning("lost %s (their jobs will be redone by the new owner)", _names(partitions))

    def _end(self, partitions: Iterable[TopicPartition]) -> set[Lease]:
        leases = {
            self.leases[k] for tp in partitions if (k := (tp.topic, tp.partition)) in self.leases
        }
        for lease in leases:
            lease.ended.set()
        return leases

    def _forget(self, leases: set[Lease]) -> None:
        for lease in leases:
            self.leases.pop((lease.topic, lease.partition), None)

    def on_stats(self, stats_json: str) -> None:
        """librdkafka's statistics (from poll()): its consumer group state says whether
        the group coordinator is reachable and the membership settled."""
        group = json.loads(stats_json).get("cgrp", {})
        # Settled: "steady", or "init" for a member the group gave nothing (the consumer
        # protocol leaves it there: a worker beyond the partitions, during a surge).
        member = group.get("state") == "up" and group.get("join_state") in ("steady", "init")
        if member != self.member:
            log.info(
                "group membership %s",
                "live" if member else f"lost ({group.get('state')}, {group.get('join_state')})",
            )
        self.member = member

    def _on_client_error(self, error: KafkaError) -> None:
        if error.fatal():
            self.fail(f"fatal Kafka client error: {error}")
        else:
            kafka_log.warning("%s", error)

    def _on_crash(self, exc: BaseException) -> None:
        self.fail(f"a slot crashed: {exc!r}")

    def _on_signal(self, signum: int, _frame) -> None:
        log.info("%s received: shutting down", signal.Signals(signum).name)
        self.shutdown = True


def _names(partitions: Iterable[TopicPartition]) -> str:
    return ", ".join(f"{tp.topic}[{tp.partition}]" for tp in partitions)
