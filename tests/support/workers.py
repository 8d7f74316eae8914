"""Driving workers in tests: private topics, producing jobs, reading what the workers
wrote to Kafka, worker subprocesses. Kafka only: nothing here imports Django."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    ConsumerGroupTopicPartitions,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ResourceType,
)

from streams.messages import FINAL_TYPES, JobEvent, JobRequest
from tools.sandbox import private_kafka
from tools.waiting import wait_until
from worker.settings import WorkerSettings

REPO = Path(__file__).resolve().parents[2]


def private_config(kafka, partitions: int = 2):
    """Topics and groups of one test alone."""
    return private_kafka(kafka, partitions, prefix="w")


def fast_group(config) -> bool:
    """Let the test's worker group notice changes in about a second and a dead member
    in six (per-group settings; the broker must allow them). False if it can't."""
    admin = AdminClient(config.admin())
    resource = ConfigResource(
        ResourceType.GROUP,
        config.worker_group,
        incremental_configs=[
            ConfigEntry(name, value, incremental_operation=AlterConfigOpType.SET)
            for name, value in [
                ("consumer.heartbeat.interval.ms", "500"),
                ("consumer.session.timeout.ms", "6000"),
            ]
        ],
    )
    try:
        admin.incremental_alter_configs([resource])[resource].result()
    except KafkaException:
        return False
    return True


def settings_for(tmp_path, **overrides) -> WorkerSettings:
    values = {
        "worker_id": "test-worker",
        "clap_work_ms": 5,
        "retry_backoff_ms": 10,
        "grace_seconds": 5.0,
        "heartbeat_file": tmp_path / "alive",
        **overrides,
    }
    return WorkerSettings(**values)


def produce(config, *messages, topic=None, partition=None) -> None:
    """Produce JobRequests or (key, value[, headers]) tuples, and wait for them."""
    producer = Producer(config.producer())
    where = {} if partition is None else {"partition": partition}
    for message in messages:
        if isinstance(message, JobRequest):
            message = (message.id, message.encode())
        key, value, *headers = message
        producer.produce(
            topic or config.topics.jobs,
            value,
            key,
            headers=headers[0] if headers else None,
            **where,
        )
    assert producer.flush(10) == 0


def job(claps: int = 2, **fields) -> JobRequest:
    return JobRequest(id=str(uuid.uuid4()), claps=claps, **fields)


class Outputs:
    """What the workers wrote: events and dead letters, read from the beginning."""

    def __init__(self, config):
        self.config = config
        t = config.topics
        self.consumer = Consumer(
            config.consumer(f"reader-{uuid.uuid4().hex}", **{"enable.auto.commit": False})
        )
        self.consumer.assign(
            [TopicPartition(t.events, p, OFFSET_BEGINNING) for p in range(t.events_partitions)]
            + [TopicPartition(t.dlq, p, OFFSET_BEGINNING) for p in range(t.dlq_partitions)]
        )
        self.events: list[JobEvent] = []
        self.dead_letters = []
        self._next: dict[tuple[str, int], int] = {}  # offset after the last one read

    def poll(self, timeout: float = 0.05) -> None:
        """What has come since the last call (whatever the next fetch brings)."""
        while (msg := self.consumer.poll(timeout)) is not None:
            timeout = 0
            if msg.error():
                continue
            self._next[(msg.topic(), msg.partition())] = msg.offset() + 1
            if msg.topic() == self.config.topics.dlq:
                self.dead_letters.append(msg)
            else:
                self.events.append(JobEvent.decode(msg.value()))

    def read_to_end(self, timeout: float = 30.0) -> None:
        """Everything written so far: each partition read up to its log end now."""
        ends = {
            (tp.topic, tp.partition): self.consumer.get_watermark_offsets(tp, timeout=10)[1]
            for tp in self.consumer.assignment()
        }

        def behind() -> bool:
            self.poll()
            return any(self._next.get(at, 0) < end for at, end in ends.items())

        wait_until(lambda: not behind(), timeout, "the outputs read to their end")

    def of(self, job_id: str) -> list[JobEvent]:
        return [e for e in self.events if e.job == job_id]

    def types(self, job_id: str) -> list[str]:
        return [e.type for e in self.of(job_id)]

    def final(self, job_id: str) -> JobEvent | None:
        return next((e for e in self.of(job_id) if e.type in FINAL_TYPES), None)

    def close(self) -> None:
        self.consumer.close()


def worker_env(config, tmp_path, **overrides) -> dict[str, str]:
    return {
        **os.environ,
        **config.to_env(),
        "CLAP_WORK_MS": "5",
        "WORKER_HEARTBEAT_FILE": str(tmp_path / f"{uuid.uuid4().hex}.alive"),
        "PYTHONUNBUFFERED": "1",
        **overrides,
    }


class Processes:
    """`python -m worker` subprocesses of one test, killed if the test leaves them."""

    def __init__(self, config, tmp_path):
        self.config = config
        self.tmp_path = tmp_path
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, **env) -> subprocess.Popen:
        log = open(self.tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - the child owns it
        proc = subprocess.Popen(
            [sys.executable, "-m", "worker"],
            cwd=REPO,
            env=worker_env(self.config, self.tmp_path, WORKER_ID=name, **env),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        return (self.tmp_path / f"{name}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)


def committed_offsets(config) -> dict[int, int]:
    """The worker group's committed offsets on the jobs topic, by partition."""
    group = config.worker_group
    admin = AdminClient(config.admin())
    found = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group]
    return {
        tp.partition: tp.offset
        for tp in found.result(timeout=10).topic_partitions
        if tp.topic == config.topics.jobs and tp.offset >= 0
    }


def log_ends(config) -> dict[int, int]:
    consumer = Consumer(config.consumer(f"ends-{uuid.uuid4().hex}"))
    try:
        return {
            p: consumer.get_watermark_offsets(TopicPartition(config.topics.jobs, p), 10)[1]
            for p in range(config.topics.jobs_partitions)
        }
    finally:
        consumer.close()


def group_members(config) -> list:
    admin = AdminClient(config.admin())
    group = config.worker_group
    return list(admin.describe_consumer_groups([group])[group].result(timeout=10).members)


def driving(worker, outputs):
    """A tick for wait_until: one step of the worker, then read what it wrote."""

    def tick():
        worker.step()
        outputs.poll(0)

    return tick
