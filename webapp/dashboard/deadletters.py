"""Reading the dead-letter topic and putting a letter's job back on the jobs topic.

The letters are read straight from Kafka (the newest few per partition), with a
throw-away consumer that never commits, so reading them disturbs no group.
"""

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

from streams import messages
from streams.config import KafkaConfig

log = logging.getLogger(__name__)


class RequeueError(RuntimeError):
    """Kafka did not confirm the requeued job."""


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    written_at: datetime | None
    error: str
    attempts: str
    original_topic: str
    original_partition: str
    original_offset: str
    failed_at: str

    @classmethod
    def from_message(cls, msg) -> "DeadLetter":
        headers = {k: (v or b"").decode("utf-8", "replace") for k, v in msg.headers() or []}
        _, stamp = msg.timestamp()
        return cls(
            partition=msg.partition(),
            offset=msg.offset(),
            key=msg.key(),
            value=msg.value(),
            written_at=datetime.fromtimestamp(stamp / 1000, UTC) if stamp > 0 else None,
            error=headers.get(messages.DLQ_ERROR, ""),
            attempts=headers.get(messages.DLQ_ATTEMPTS, ""),
            original_topic=headers.get(messages.DLQ_TOPIC, ""),
            original_partition=headers.get(messages.DLQ_PARTITION, ""),
            original_offset=headers.get(messages.DLQ_OFFSET, ""),
            failed_at=headers.get(messages.DLQ_FAILED_AT, ""),
        )

    @property
    def job_id(self) -> str:
        return (self.key or b"").decode("utf-8", "replace")


def _age_key(letter: DeadLetter) -> tuple[float, int]:
    return (letter.written_at.timestamp() if letter.written_at else 0.0, letter.offset)


def _reader(kafka: KafkaConfig) -> Consumer:
    return Consumer(
        kafka.consumer(
            f"dead-letter-reader-{uuid.uuid4().hex[:8]}",
            **{"enable.auto.commit": False, "enable.partition.eof": True},
            logger=log,
        )
    )


def _read(
    consumer: Consumer, starts: dict[int, int], ends: dict[int, int], topic: str, timeout: float
):
    """Messages from each partition's start up to (not including) its end offset."""
    wanted = {p for p in starts if starts[p] < ends[p]}
    if not wanted:
        return []
    consumer.assign([TopicPartition(topic, p, starts[p]) for p in wanted])
    found, deadline = [], time.monotonic() + timeout
    while wanted and time.monotonic() < deadline:
        for msg in consumer.consume(500, timeout=0.2):
            error = msg.error()
            if error is not None and error.code() != KafkaError._PARTITION_EOF:
                raise KafkaException(error)
            if msg.partition() not in wanted:
                continue
            if error is None and msg.offset() < ends[msg.partition()]:
                found.append(DeadLetter.from_message(msg))
            if error is not None or msg.offset() >= ends[msg.partition()] - 1:
                wanted.discard(msg.partition())
    return found


def _bounds(consumer: Consumer, topic: str, timeout: float) -> dict[int, tuple[int, int]]:
    """partition -> (first retained offset, log-end offset)."""
    meta = consumer.list_topics(topic, timeout=timeout).topics[topic]
    if meta.error is not None:
        raise KafkaException(meta.error)
    return {
        p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout)
        for p in meta.partitions
    }


def recent(kafka: KafkaConfig, per_partition: int = 100, timeout: float = 5.0) -> list[DeadLetter]:
    """The newest letters of every dead-letter partition, newest first."""
    topic = kafka.topics.dlq
    consumer = _reader(kafka)
    try:
        bounds = _bounds(consumer, topic, timeout)
        starts = {p: max(low, high - per_partition) for p, (low, high) in bounds.items()}
        ends = {p: high for p, (_, high) in bounds.items()}
        letters = _read(consumer, starts, ends, topic, timeout)
    finally:
        consumer.close()
    return sorted(letters, key=_age_key, reverse=True)


def fetch(kafka: KafkaConfig, partition: int, offset: int, timeout: float = 5.0):
    """The letter at partition/offset of the dead-letter topic, None if there is none."""
    topic = kafka.topics.dlq
    consumer = _reader(kafka)
    try:
        low, high = _bounds(consumer, topic, timeout).get(partition, (0, 0))
        if not low <= offset < high:
            return None
        letters = _read(consumer, {partition: offset}, {partition: offset + 1}, topic, timeout)
    finally:
        consumer.close()
    return letters[0] if letters else None


def requeue(kafka: KafkaConfig, letter: DeadLetter, timeout: float = 10.0) -> None:
    """Produce the letter's original key and value to the jobs topic; confirmed or raises."""
    errors = []
    producer = Producer(kafka.producer(logger=log))
    try:
        producer.produce(
            kafka.topics.jobs,
            key=letter.key,
            value=letter.value,
            on_delivery=lambda err, _msg: errors.append(err) if err else None,
        )
    except (BufferError, KafkaException) as exc:
        raise RequeueError(f"Kafka refused the requeued job: {exc}") from exc
    if producer.flush(timeout) > 0 or errors:
        raise RequeueError(f"Kafka did not confirm the requeued job: {errors or 'timeout'}")
