"""A private, throw-away slice of Kafka for one test or benchmark run: its own topics
and groups on the configured broker, and the environment its subprocesses need."""

import dataclasses
import uuid

from streams.config import KafkaConfig
from streams.topics import ensure_topics


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
    return config


def process_env(config: KafkaConfig) -> dict[str, str]:
    """Environment for `python -m worker` and `manage.py record_events` to use the
    same topics, groups and (SQLite) database as this process (Django set up)."""
    from django.conf import settings

    t = config.topics
    db = settings.DATABASES["default"]
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": config.bootstrap_servers,
        "CLAP_JOBS_TOPIC": t.jobs,
        "CLAP_EVENTS_TOPIC": t.events,
        "CLAP_DLQ_TOPIC": t.dlq,
        "CLAP_CONTROL_TOPIC": t.control,
        "CLAP_JOBS_PARTITIONS": str(t.jobs_partitions),
        "CLAP_EVENTS_PARTITIONS": str(t.events_partitions),
        "WORKER_GROUP": config.worker_group,
        "RECORDER_GROUP": config.recorder_group,
    }
    if db["ENGINE"].endswith("sqlite3"):
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    return env
