"""Clapstream's workers alone: jobs straight onto the topic, done events counted on
clap.events, no web side and no database, like the bare loop (and like Celery's task
results in Redis); and the same work in one bare loop, their ceiling."""

import io
import sys
import time
import uuid

from confluent_kafka import OFFSET_END, Consumer, Producer, TopicPartition

from streams import messages
from streams.config import KafkaConfig
from tools.bench.group import settled
from tools.bench.pipeline import consume_produce_loop, wait_until
from tools.processes import ProcessGroup
from tools.sandbox import drop_private_kafka, private_kafka, process_env, undone_on_failure
from worker.applause import synthesize

DONE = b'"type":"done"'


class Workers:
    def __init__(self, base: KafkaConfig, workers: int, partitions: int = 12):
        self.kafka = private_kafka(base, partitions, prefix="bench")
        self.env = {**process_env(self.kafka), "CLAP_WORK_MS": "0"}
        self.workers = workers
        self.group = ProcessGroup(io.StringIO())

    def __enter__(self):
        t = self.kafka.topics
        self.producer = Producer(self.kafka.producer())
        self.done = Consumer(self.kafka.consumer(f"bench-done-{uuid.uuid4().hex}"))
        with undone_on_failure(self):
            self.done.assign(
                [TopicPartition(t.events, p, OFFSET_END) for p in range(t.events_partitions)]
            )
            for n in range(1, self.workers + 1):
                self.group.start(
                    f"worker-{n}",
                    [sys.executable, "-m", "worker"],
                    {**self.env, "WORKER_ID": f"bench-worker-{n}"},
                )
            # Until every worker holds partitions and has done a job, nothing is measured.
            wait_until(lambda: settled(self.kafka, self.workers), 120, "a settled worker group")
            self.throughput(24)
        return self

    def __exit__(self, *exc):
        self.group.stop_all(timeout=30)
        self.done.close()
        drop_private_kafka(self.kafka)

    def throughput(self, jobs: int, timeout: float = 600) -> float:
        """Jobs per second from the first produce to the last done event."""
        began = time.perf_counter()
        for _ in range(jobs):
            job = messages.JobRequest(id=str(uuid.uuid4()), claps=1)
            self.producer.produce(self.kafka.topics.jobs, key=job.id, value=job.encode())
            self.producer.poll(0)
        self.producer.flush(60)
        seen, deadline = 0, time.monotonic() + timeout
        while seen < jobs:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {seen} of {jobs} jobs done")
            batch = self.done.consume(1000, 0.1)
            seen += sum(1 for m in batch if not m.error() and DONE in m.value())
        return jobs / (time.perf_counter() - began)


def same_work_loop(base: KafkaConfig, jobs: int, partitions: int = 12) -> float:
    """The ceiling for the worker's own work: like a worker, decode each job, synthesise
    its clap and produce its running, progress and done events (the done event
    carrying the WAV)."""

    def worker_events(msg):
        job = messages.JobRequest.decode(msg.value())
        common = {"job": job.id, "at": time.time(), "total": 1}
        return [
            messages.JobEvent(type=messages.RUNNING, done=0, seq=0, **common),
            messages.JobEvent(type=messages.PROGRESS, done=1, seq=1, **common),
            messages.JobEvent(
                type=messages.DONE,
                done=1,
                seq=2,
                result_deflated=messages.deflate(synthesize(1, job.id)),
                **common,
            ),
        ]

    synthesize(1, str(uuid.uuid4()))  # its first call sets up; not part of the clock
    return consume_produce_loop(base, jobs, worker_events, partitions)
