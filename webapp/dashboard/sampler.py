"""The sampler: records every interval where each consumer group stands on its topic.

One step reads watermarks and committed offsets (without joining the groups) and
who holds which partition, stores one PartitionSample per partition and one
GroupSample per group, and deletes samples older than the retention.
"""

import logging
from datetime import UTC, datetime, timedelta

from confluent_kafka import KafkaException
from django.conf import settings
from django.db import DatabaseError, close_old_connections, transaction

from streams.lag import OffsetReader
from webapp.dashboard.groups import GroupInfo, describe_groups
from webapp.dashboard.models import GroupSample, PartitionSample
from webapp.dashboard.watched import reset_policy, sampled_pairs

log = logging.getLogger(__name__)


class Sampler:
    def __init__(self, kafka=None, *, retention: timedelta, timeout: float = 5.0):
        self.kafka = kafka or settings.KAFKA
        self.retention = retention
        self.timeout = timeout
        self.reader = OffsetReader(self.kafka, timeout=timeout)
        self._last: dict[tuple[str, str, int], PartitionSample] | None = None

    def _previous(self, group: str, topic: str, partition: int) -> PartitionSample | None:
        if self._last is None:  # first step of this process: carry on from the database
            self._last = self._latest_stored()
        return self._last.get((group, topic, partition))

    def _latest_stored(self) -> dict[tuple[str, str, int], PartitionSample]:
        latest = {}
        for group, topic in sampled_pairs(self.kafka):
            samples = GroupSample.objects.filter(group=group, topic=topic).order_by("-at")
            at = samples.values_list("at", flat=True).first()
            for row in PartitionSample.objects.filter(group=group, topic=topic, at=at):
                latest[(group, topic, row.partition)] = row
        return latest

    def _describe(self) -> dict[str, GroupInfo]:
        groups = [group for group, _ in sampled_pairs(self.kafka)]
        try:
            return describe_groups(self.kafka, groups, timeout=self.timeout)
        except KafkaException as exc:
            log.warning("could not describe the groups, owners not recorded: %s", exc)
            return {}

    @staticmethod
    def _moved_at(previous: PartitionSample | None, committed: int | None, at: datetime):
        if previous is None:
            return None
        return at if previous.committed != committed else previous.moved_at

    def _samples(self, at: datetime, readings, described: dict[str, GroupInfo]):
        partitions, groups = [], []
        for group, topic, offsets in readings:
            info = described.get(group)
            owners = info.owners(topic) if info else {}
            for p in offsets:
                previous = self._previous(group, topic, p.partition)
                partitions.append(
                    PartitionSample(
                        at=at,
                        group=group,
                        topic=topic,
                        partition=p.partition,
                        first=p.first,
                        log_end=p.log_end,
                        committed=p.committed,
                        moved_at=self._moved_at(previous, p.committed, at),
                        owner=owners.get(p.partition, ""),
                    )
                )
            log_end = sum(p.log_end for p in offsets)
            policy = reset_policy(self.kafka, group)
            groups.append(
                GroupSample(
                    at=at,
                    group=group,
                    topic=topic,
                    log_end=log_end,
                    position=log_end - sum(p.unread(policy) for p in offsets),
                    members=len(info.members) if info else None,
                    state=info.state if info else "",
                )
            )
        return partitions, groups

    def sample_step(self) -> bool:
        """Take one sample of every group; False when Kafka or the database failed."""
        at = datetime.now(UTC)
        described = self._describe()
        try:
            readings = [
                (group, topic, self.reader.offsets(group, topic))
                for group, topic in sampled_pairs(self.kafka)
            ]
        except (KafkaException, LookupError) as exc:
            log.warning("sampling skipped, Kafka did not answer: %s", exc)
            return False
        try:
            partitions, groups = self._samples(at, readings, described)
            with transaction.atomic():
                PartitionSample.objects.bulk_create(partitions)
                GroupSample.objects.bulk_create(groups)
            self.prune(at)
        except DatabaseError as exc:
            log.warning("sampling skipped, database unavailable: %s", exc)
            close_old_connections()
            return False
        self._last = {(s.group, s.topic, s.partition): s for s in partitions}
        return True

    def prune(self, now: datetime) -> int:
        """Delete the samples older than the retention; returns how many rows."""
        cutoff = now - self.retention
        deleted, _ = PartitionSample.objects.filter(at__lt=cutoff).delete()
        more, _ = GroupSample.objects.filter(at__lt=cutoff).delete()
        return deleted + more

    def close(self) -> None:
        self.reader.close()
