"""Jobs on the jobs topic and a group's commits on it, made and read directly in Kafka."""

import uuid
from typing import NamedTuple

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition

from streams import messages
from streams.lag import COORDINATOR_BUSY
from tools.waiting import wait_until


def produce_jobs(config, count: int, partition: int | None = None) -> dict[int, int]:
    """Put `count` one-clap jobs on the jobs topic (by key, or all on `partition`);
    returns messages per partition."""
    per_partition: dict[int, int] = {}

    def delivered(err, msg):
        assert err is None, err
        per_partition[msg.partition()] = per_partition.get(msg.partition(), 0) + 1

    producer = Producer(config.producer())
    for _ in range(count):
        job = messages.JobRequest(id=str(uuid.uuid4()), claps=1, submitted_at=messages.now())
        where = {} if partition is None else {"partition": partition}
        producer.produce(
            config.topics.jobs, key=job.id, value=job.encode(), on_delivery=delivered, **where
        )
    assert producer.flush(10) == 0
    return per_partition


def commit(config, group: str, offsets: dict[int, int]) -> None:
    """Commit offsets on the jobs topic for the group, without joining it."""
    consumer = Consumer(config.consumer(group))
    tps = [TopicPartition(config.topics.jobs, p, o) for p, o in offsets.items()]

    def committed() -> bool:
        try:
            consumer.commit(offsets=tps, asynchronous=False)
        except KafkaException as exc:
            if exc.args[0].code() not in COORDINATOR_BUSY:
                raise
            return False  # the coordinator is still loading on a fresh broker
        return True

    try:
        wait_until(committed, 10, "the group coordinator to take the commit", interval=0.2)
    finally:
        consumer.close()


class Record(NamedTuple):
    key: str
    value: bytes
    partition: int
    offset: int


def jobs_topic(config) -> list[Record]:
    """Every record on the jobs topic, read from the beginning to the end of each
    partition."""
    return topic_records(config, config.topics.jobs, config.topics.jobs_partitions)


def topic_records(config, topic: str, partitions: int) -> list[Record]:
    """Every record on the topic, read from the beginning to the end of each partition."""
    consumer = Consumer(config.consumer("test-reader", **{"enable.partition.eof": True}))
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    found, ended = [], set()
    try:
        while len(ended) < partitions:
            msg = consumer.poll(5)
            assert msg is not None, f"{topic} did not answer"
            if msg.error():
                ended.add(msg.partition())
            else:
                found.append(Record(msg.key().decode(), msg.value(), msg.partition(), msg.offset()))
    finally:
        consumer.close()
    return found
