"""Reading offsets and computing consumer lag, as the admin UIs and KEDA do.

Per partition: lag = log-end offset (high watermark) - committed offset. A partition
the group never committed has no lag figure (None, shown as "no commits yet"), and a
committed offset below the first retained one counts from the first retained one.
"""

import logging
import time
from dataclasses import dataclass

from confluent_kafka import OFFSET_INVALID, Consumer, KafkaError, KafkaException, TopicPartition

from streams.config import KafkaConfig

log = logging.getLogger(__name__)
COORDINATOR_BUSY = {
    KafkaError.NOT_COORDINATOR,
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
    KafkaError.COORDINATOR_NOT_AVAILABLE,
}


@dataclass(frozen=True)
class PartitionOffsets:
    partition: int
    first: int  # first retained offset (low watermark)
    log_end: int  # high watermark: the offset the next message will get
    committed: int | None  # None: the group never committed on this partition

    @property
    def lag(self) -> int | None:
        if self.committed is None:
            return None
        return self.log_end - max(self.committed, self.first)

    def unread(self, reset_policy: str = "earliest") -> int:
        """Messages the group has yet to read: its lag or, where it never committed,
        what its auto.offset.reset makes it read (earliest: the retained log)."""
        if self.committed is None:
            return self.log_end - self.first if reset_policy == "earliest" else 0
        return self.lag


class OffsetReader:
    """Reads watermarks and a group's committed offsets without joining the group."""

    def __init__(self, kafka: KafkaConfig, timeout: float = 5.0):
        self.kafka = kafka
        self.timeout = timeout
        self._consumers: dict[str, Consumer] = {}

    def _consumer(self, group: str) -> Consumer:
        # committed() answers for the consumer's own group.id; it never subscribes, so
        # it never joins the group or disturbs its members.
        if group not in self._consumers:
            self._consumers[group] = Consumer(
                self.kafka.consumer(group, **{"enable.auto.commit": False}, logger=log)
            )
        return self._consumers[group]

    def _committed(self, group: str, partitions: list[TopicPartition]) -> list[TopicPartition]:
        # The group coordinator may be moving or loading (e.g. just after a broker
        # start); those errors are retriable within the timeout.
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                return self._consumer(group).committed(partitions, timeout=self.timeout)
            except KafkaException as exc:
                error = exc.args[0]
                busy = error.retriable() or error.code() in COORDINATOR_BUSY
                if not busy or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def partitions(self, group: str, topic: str) -> list[int]:
        meta = self._consumer(group).list_topics(topic, timeout=self.timeout).topics[topic]
        if meta.error is not None:
            raise LookupError(f"topic {topic}: {meta.error}")
        return sorted(meta.partitions)

    def offsets(self, group: str, topic: str) -> list[PartitionOffsets]:
        consumer = self._consumer(group)
        parts = self.partitions(group, topic)
        committed = self._committed(group, [TopicPartition(topic, p) for p in parts])
        result = []
        for tp in committed:
            first, log_end = consumer.get_watermark_offsets(
                TopicPartition(topic, tp.partition), timeout=self.timeout
            )
            offset = None if tp.offset == OFFSET_INVALID or tp.offset < 0 else tp.offset
            result.append(PartitionOffsets(tp.partition, first, log_end, offset))
        return result

    def position(self, group: str, topic: str, partition: int, offset: int) -> int:
        """How many messages are ahead of `offset` on the partition for the group
        (0: it is next, or being worked on)."""
        consumer = self._consumer(group)
        [tp] = self._committed(group, [TopicPartition(topic, partition)])
        if tp.offset < 0:
            tp.offset, _ = consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=self.timeout
            )
        return max(0, offset - tp.offset)

    def close(self) -> None:
        for consumer in self._consumers.values():
            consumer.close()
        self._consumers.clear()
