import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from streams.lag import OffsetReader, PartitionOffsets
from tools.sandbox import private_kafka

pytestmark = pytest.mark.kafka


def test_lag_is_none_before_the_first_commit_then_counts(kafka):
    config = private_kafka(kafka, partitions=3)
    topics = config.topics
    producer = Producer(config.producer())
    for i in range(5):
        producer.produce(topics.jobs, value=b"x", partition=1 if i < 4 else 2)
    producer.flush(10)

    reader = OffsetReader(config)
    group = config.worker_group
    before = {p.partition: p for p in reader.offsets(group, topics.jobs)}
    assert before[1] == PartitionOffsets(1, 0, 4, None) and before[1].lag is None
    assert reader.position(group, topics.jobs, 1, 3) == 3

    consumer = Consumer(config.consumer(group))
    consumer.commit(
        offsets=[TopicPartition(topics.jobs, 1, 1), TopicPartition(topics.jobs, 2, 1)],
        asynchronous=False,
    )
    consumer.close()
    after = {p.partition: p.lag for p in reader.offsets(group, topics.jobs)}
    assert after == {0: None, 1: 3, 2: 0}
    assert reader.position(group, topics.jobs, 1, 3) == 2
    reader.close()


def test_a_commit_below_the_retained_log_counts_from_its_start():
    assert PartitionOffsets(0, first=50, log_end=80, committed=10).lag == 30
