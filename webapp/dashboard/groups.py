"""Consumer groups as Kafka describes them right now: state, coordinator, members."""

import logging
from dataclasses import dataclass
from functools import cache

from confluent_kafka.admin import AdminClient

from streams.config import KafkaConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Member:
    client_id: str
    host: str
    partitions: tuple[tuple[str, int], ...]  # (topic, partition) assigned to it

    @property
    def assignment(self) -> str:
        """ "clap.jobs 0, 1, 2" per topic, for people."""
        topics: dict[str, list[int]] = {}
        for topic, partition in sorted(self.partitions):
            topics.setdefault(topic, []).append(partition)
        return "; ".join(f"{t} {', '.join(map(str, ps))}" for t, ps in topics.items()) or "none"


@dataclass(frozen=True)
class GroupInfo:
    group: str
    state: str  # STABLE, EMPTY, PREPARING_REBALANCING, ... (DEAD: unknown to Kafka)
    coordinator: str
    members: tuple[Member, ...]

    def owners(self, topic: str) -> dict[int, str]:
        """partition -> client id of the member it is assigned to."""
        return {
            partition: member.client_id
            for member in self.members
            for t, partition in member.partitions
            if t == topic
        }


@cache
def _admin(settings: tuple[tuple[str, str], ...]) -> AdminClient:
    return AdminClient({**dict(settings), "logger": log})


def admin_client(kafka: KafkaConfig) -> AdminClient:
    """One admin client per process and cluster."""
    return _admin(tuple(sorted(kafka.admin().items())))


def describe_groups(kafka: KafkaConfig, groups: list[str], timeout: float) -> dict[str, GroupInfo]:
    """Raises KafkaException when Kafka does not answer within the timeout."""
    futures = admin_client(kafka).describe_consumer_groups(groups, request_timeout=timeout)
    described = {}
    for group, future in futures.items():
        desc = future.result()
        node = desc.coordinator
        described[group] = GroupInfo(
            group=group,
            state=desc.state.name,
            coordinator=f"broker {node.id} at {node.host}:{node.port}" if node else "unknown",
            members=tuple(
                Member(
                    m.client_id,
                    m.host.lstrip("/"),
                    tuple((tp.topic, tp.partition) for tp in m.assignment.topic_partitions),
                )
                for m in desc.members
            ),
        )
    return described
