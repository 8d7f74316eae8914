"""Throughput and latency of the whole pipeline, and the bare-loop ceiling.

Each measurement runs on private topics and groups (tools.sandbox) with real
worker and recorder processes, so runs never disturb each other or a live system.
"""

import io
import os
import sys
import threading
import time
import uuid
from datetime import UTC, datetime

from confluent_kafka import Consumer, Producer, TopicPartition
from django.test import override_settings

from streams import messages
from streams.config import KafkaConfig
from tools.bench.database import analyze, reclaim
from tools.bench.group import settled
from tools.bench.proc import workers_and_recorders_cpu
from tools.processes import ProcessGroup
from tools.sandbox import drop_private_kafka, private_kafka, process_env, undone_on_failure
from tools.waiting import wait_until
from webapp.claps.models import ClapJob, Status
from webapp.claps.publisher import publisher, reset_publisher
from webapp.claps.services import clap_submit

# Every Django process the benchmark starts runs as in production (tools.bench.settings):
# with DEBUG on, as `make bench` runs this process, each query would be logged.
BENCH_SETTINGS = {"DJANGO_SETTINGS_MODULE": "tools.bench.settings"}


def default_recorders(database: str) -> int:
    """One recorder keeps up with SQLite's one writer; PostgreSQL takes two."""
    return 2 if database == "PostgreSQL" else 1


def _done(owner: str) -> int:
    return ClapJob.objects.filter(owner=owner, status=Status.DONE).count()


class Pipeline:
    """Recorder and workers over a private slice of Kafka."""

    def __init__(
        self,
        base: KafkaConfig,
        workers: int,
        partitions: int = 12,
        work_ms: int = 0,
        recorders: int = 1,
        env: dict[str, str] | None = None,
    ):
        self.kafka = private_kafka(base, partitions, prefix="bench")
        self.env = {
            **process_env(self.kafka),
            **BENCH_SETTINGS,
            "CLAP_WORK_MS": str(work_ms),
            **(env or {}),
        }
        self.group = ProcessGroup(io.StringIO())
        self.workers = workers
        self.recorders = recorders

    def __enter__(self):
        # The site's own publishing path (clap_submit) must use this run's topics.
        self._settings = override_settings(KAFKA=self.kafka)
        self._settings.enable()
        with undone_on_failure(self):
            reset_publisher()
            for n in range(1, self.recorders + 1):
                self.group.start(
                    f"recorder-{n}", [sys.executable, "manage.py", "record_events"], self.env
                )
            for n in range(1, self.workers + 1):
                self.group.start(
                    f"worker-{n}",
                    [sys.executable, "-m", "worker"],
                    {**self.env, "WORKER_ID": f"bench-worker-{n}"},
                )
            # The site's own publisher, as clap_submit uses it: warmed up with the rest,
            # so no measured job waits for its connection and producer id.
            self.publisher = publisher()
            self.warm_up()
        return self

    def __exit__(self, *exc):
        reset_publisher()
        self._settings.disable()
        self.group.stop_all(timeout=30)
        drop_private_kafka(self.kafka)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds used so far by its workers, its recorders and this process (the
        publisher)."""
        return {**workers_and_recorders_cpu(self.group), "publisher": sum(os.times()[:2])}

    def forget_jobs(self) -> None:
        ClapJob.objects.filter(owner__startswith="bench:").delete()
        reclaim()

    def warm_up(self, jobs: int = 24) -> None:
        """Until every worker holds partitions and the recorder writes, nothing is
        measured."""
        # A worker joining after the clock started would rebalance the group mid-run.
        wait_until(lambda: settled(self.kafka, self.workers), 120, "a settled worker group")
        owner = f"bench:{uuid.uuid4().hex}"
        for job in ClapJob.objects.bulk_create(
            [ClapJob(owner=owner, claps=1) for _ in range(jobs)]
        ):
            self.publisher.publish_job(job)
        wait_until(lambda: _done(owner) == jobs, 120, "the warm-up jobs")

    def throughput(self, jobs: int) -> float:
        """Jobs per second from the first publish to the last job recorded done."""
        owner = f"bench:{uuid.uuid4().hex}"
        rows = ClapJob.objects.bulk_create(
            [ClapJob(owner=owner, claps=1) for _ in range(jobs)], batch_size=500
        )
        analyze()
        began = time.perf_counter()
        for job in rows:
            self.publisher.publish_job(job)
        wait_until(lambda: _done(owner) == jobs, 600, f"{jobs} jobs")
        return jobs / (time.perf_counter() - began)

    def latencies(self, rate: float, seconds: float) -> list[float]:
        """Seconds from submission (the API's service call) to the worker's done event
        (its record's timestamp), at a steady rate."""
        done_at: dict[str, float] = {}
        listening = threading.Event()
        stop = threading.Event()
        listener = threading.Thread(
            target=self._listen_done, args=(done_at, listening, stop), daemon=True
        )
        listener.start()
        listening.wait(30)
        submitted: dict[str, float] = {}
        count = int(rate * seconds)
        began = time.perf_counter()
        for i in range(count):
            time.sleep(max(0.0, began + i / rate - time.perf_counter()))  # pacing
            job = clap_submit(owner="bench:latency", claps=1)
            submitted[str(job.id)] = time.time()
        publisher().flush()
        wait_until(lambda: all(j in done_at for j in submitted), 120, "the paced jobs")
        stop.set()
        listener.join()
        return [done_at[j] - t for j, t in submitted.items()]

    def _listen_done(self, done_at, listening, stop) -> None:
        """Each done event's time, from its record's timestamp (the worker's produce
        time), so the listener's own start-up or lag never counts as the pipeline's."""
        consumer = Consumer(self.kafka.consumer(f"latency-{uuid.uuid4().hex}"))
        t = self.kafka.topics
        ends = [
            TopicPartition(
                t.events,
                p,
                consumer.get_watermark_offsets(TopicPartition(t.events, p), timeout=10)[1],
            )
            for p in range(t.events_partitions)
        ]
        consumer.assign(ends)
        listening.set()
        while not stop.is_set():
            msg = consumer.poll(0.2)
            if msg is None or msg.error():
                continue
            if b'"type":"done"' in msg.value():
                done_at.setdefault(msg.key().decode(), msg.timestamp()[1] / 1000)


def consume_produce_loop(base: KafkaConfig, jobs: int, events_of, partitions: int = 12) -> float:
    """Jobs/s of one process consuming `jobs` one-clap jobs and producing the events
    `events_of(message)` gives for each, with the worker's consumer and producer
    settings and no slots, retries, cancellation checks or offset tracking."""
    kafka = private_kafka(base, partitions, prefix="bench")
    try:
        return _consume_produce(kafka, jobs, events_of)
    finally:
        drop_private_kafka(kafka)


def _consume_produce(kafka: KafkaConfig, jobs: int, events_of) -> float:
    producer = Producer(kafka.producer())
    consumer = Consumer(kafka.consumer(kafka.worker_group))
    consumer.subscribe([kafka.topics.jobs])
    # Joined, and the producer's id acquired, before the clock starts, as the workers'
    # warm-up does for theirs (the warm-up event goes where nobody reads it).
    wait_until(lambda: consumer.poll(0.1) is None and consumer.assignment(), 60, "the join")
    producer.produce(kafka.topics.events, key=b"warm-up", value=b"{}")
    producer.flush(30)
    began = time.perf_counter()  # from the first job sent, like every other row
    for _ in range(jobs):
        job = messages.JobRequest(
            id=str(uuid.uuid4()), claps=1, submitted_at=datetime.now(UTC).timestamp()
        )
        producer.produce(kafka.topics.jobs, key=job.id, value=job.encode())
        producer.poll(0)
    producer.flush(60)
    seen = 0
    while seen < jobs:
        msg = consumer.poll(1.0)
        if msg is None or msg.error():
            continue
        for event in events_of(msg):
            producer.produce(kafka.topics.events, key=msg.key(), value=event.encode())
            producer.poll(0)
        consumer.store_offsets(msg)
        seen += 1
    producer.flush(60)
    elapsed = time.perf_counter() - began
    consumer.close()
    return jobs / elapsed


def bare_loop(base: KafkaConfig, jobs: int, partitions: int = 12) -> float:
    """The ceiling: one tiny event per job, and no work."""

    def one_event(msg):
        return [
            messages.JobEvent(
                job=msg.key().decode(), type=messages.DONE, seq=1, at=time.time(), done=1, total=1
            )
        ]

    return consume_produce_loop(base, jobs, one_event, partitions)
