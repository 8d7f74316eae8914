"""Waiting for the workers' consumer group to settle before a clock starts."""

from confluent_kafka import KafkaException

from streams.config import KafkaConfig
from webapp.dashboard.groups import describe_groups


def settled(kafka: KafkaConfig, members: int) -> bool:
    """Whether the worker group is stable with `members` members, each holding some of
    the jobs topic's partitions and all of them held."""
    try:
        group = describe_groups(kafka, [kafka.worker_group], timeout=10)[kafka.worker_group]
    except KafkaException:
        return False
    owners = group.owners(kafka.topics.jobs)
    return (
        group.state == "STABLE"
        and len(group.members) == len(set(owners.values())) == members
        and len(owners) == kafka.topics.jobs_partitions
    )
