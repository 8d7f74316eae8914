"""Creating and growing the project's topics, idempotently."""

import logging
from dataclasses import dataclass

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic

from streams.config import KafkaConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str]


def topic_specs(kafka: KafkaConfig) -> list[TopicSpec]:
    t = kafka.topics
    week = str(7 * 24 * 3600 * 1000)
    return [
        TopicSpec(t.jobs, t.jobs_partitions, {"retention.ms": week}),
        TopicSpec(t.events, t.events_partitions, {"retention.ms": str(24 * 3600 * 1000)}),
        TopicSpec(
            t.dlq, t.dlq_partitions, {"retention.ms": str(t.dlq_retention_days * 24 * 3600 * 1000)}
        ),
        TopicSpec(
            t.control,
            t.control_partitions,
            {"cleanup.policy": "compact,delete", "retention.ms": str(24 * 3600 * 1000)},
        ),
    ]


def ensure_topics(kafka: KafkaConfig, timeout: float = 30.0) -> list[str]:
    """Create missing topics and grow short ones; return what was done, in words.

    Kafka cannot remove partitions, so a configured count below the existing one is
    reported and left alone.
    """
    admin = AdminClient(kafka.admin())
    existing = admin.list_topics(timeout=timeout).topics
    report: list[str] = []
    to_create, to_grow = [], []
    for spec in topic_specs(kafka):
        meta = existing.get(spec.name)
        if meta is None:
            to_create.append(
                NewTopic(
                    spec.name, spec.partitions, kafka.topics.replication_factor, config=spec.config
                )
            )
            report.append(f"created {spec.name} with {spec.partitions} partitions")
            continue
        have = len(meta.partitions)
        if have < spec.partitions:
            to_grow.append(NewPartitions(spec.name, spec.partitions))
            report.append(f"grew {spec.name} from {have} to {spec.partitions} partitions")
        elif have > spec.partitions:
            report.append(
                f"{spec.name} has {have} partitions, more than the configured "
                f"{spec.partitions}: Kafka cannot shrink a topic, left as it is"
            )
        else:
            report.append(f"{spec.name} already has {have} partitions")
    for futures in (
        admin.create_topics(to_create, operation_timeout=timeout) if to_create else {},
        admin.create_partitions(to_grow, operation_timeout=timeout) if to_grow else {},
    ):
        for name, future in futures.items():
            try:
                future.result()
            except KafkaException as exc:
                # Another replica of this job may have won the race: that is fine.
                if exc.args[0].name() not in {"TOPIC_ALREADY_EXISTS", "INVALID_PARTITIONS"}:
                    raise
                log.info("%s: %s", name, exc.args[0].str())
    return report
