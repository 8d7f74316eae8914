"""A private, throw-away slice of Kafka for one test or benchmark run: its own topics
and groups on the configured broker, and the environment its subprocesses need."""

import dataclasses
import sys
import time
import uuid
from contextlib import contextmanager
from urllib.parse import quote

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from streams.config import KafkaConfig
from streams.topics import ensure_topics, topic_specs


def private_kafka(base: KafkaConfig, partitions: int = 12, prefix: str = "t") -> KafkaConfig:
    tag = f"{prefix}{uuid.uuid4().hex[:8]}"
    topics = dataclasses.replace(
        base.topics,
        jobs=f"{tag}.jobs",
        events=f"{tag}.events",
        dlq=f"{tag}.dlq",
        control=f"{tag}.control",
        jobs_partitions=partitions,
        events_partitions=partitions,
    )
    config = dataclasses.replace(
        base, topics=topics, worker_group=f"{tag}-workers", recorder_group=f"{tag}-recorder"
    )
    ensure_topics(config)
    await_leaders(config)
    return config


def drop_private_kafka(config: KafkaConfig, timeout: float = 30.0) -> None:
    """Delete what private_kafka made, and its groups' offsets. Throw-away brokers go
    with their directory; this is for a broker that stays, such as `make run`'s, where
    every benchmark run would otherwise leave its topics and their data on disk."""
    admin = AdminClient(config.admin())
    topics = [spec.name for spec in topic_specs(config)]
    groups = [config.worker_group, config.recorder_group]
    for future in (
        *admin.delete_topics(topics, operation_timeout=timeout).values(),
        *admin.delete_consumer_groups(groups, request_timeout=timeout).values(),
    ):
        try:
            future.result()
        except KafkaException as exc:
            if exc.args[0].name() not in {"UNKNOWN_TOPIC_OR_PART", "GROUP_ID_NOT_FOUND"}:
                raise


@contextmanager
def undone_on_failure(stage):
    """Around a stage's start in its __enter__: should the start fail, the stage's own
    __exit__ runs before the error goes on (Python calls __exit__ only after a
    successful __enter__), so a stage that never got going still stops what it started
    and drops its slice of Kafka."""
    try:
        yield
    except BaseException:
        stage.__exit__(*sys.exc_info())
        raise


def await_leaders(config: KafkaConfig, timeout: float = 30.0) -> None:
    """Until every partition of the jobs and events topics answers for its offsets: a
    busy broker elects the leaders of new partitions a moment after creating them, and
    answers NOT_LEADER_FOR_PARTITION meanwhile."""
    t = config.topics
    consumer = Consumer(config.consumer(f"probe-{uuid.uuid4().hex}"))
    deadline = time.monotonic() + timeout
    try:
        for topic, count in ((t.jobs, t.jobs_partitions), (t.events, t.events_partitions)):
            for partition in range(count):
                while True:
                    try:
                        consumer.get_watermark_offsets(TopicPartition(topic, partition), 5)
                        break
                    except KafkaException:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.2)
    finally:
        consumer.close()


def process_env(config: KafkaConfig) -> dict[str, str]:
    """Environment for `python -m worker` and `manage.py record_events` to use the
    same topics, groups and database as this process (Django set up; under the test
    runner that is the test database)."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    env = config.to_env()
    if db["ENGINE"].endswith("sqlite3"):
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    elif db["ENGINE"].endswith("postgresql"):
        login = f"{quote(db['USER'], safe='')}:{quote(db['PASSWORD'], safe='')}"
        env["DATABASE_URL"] = f"postgres://{login}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return env
