"""Waiting for the workers' consumer group to settle before a clock starts."""

import time

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
    topic = kafka.topics.jobs
    held = [[p for t, p in member.partitions if t == topic] for member in group.members]
    return (
        group.state == "STABLE"
        and len(held) == members
        and all(held)
        and sum(len(h) for h in held) == kafka.topics.jobs_partitions
    )


def wait_settled(kafka: KafkaConfig, members: int, timeout: float = 120) -> None:
    """A worker that joins after the clock started makes the group rebalance mid-run:
    its partitions stall for seconds, and the run measures that instead."""
    deadline = time.monotonic() + timeout
    while not settled(kafka, members):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the worker group did not settle with {members} members")
        time.sleep(0.2)
