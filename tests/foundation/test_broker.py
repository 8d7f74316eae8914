import uuid

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from streams.topics import ensure_topics
from tools.broker import BrokerError, jars, java

pytestmark = pytest.mark.kafka


def test_round_trip_through_clap_jobs(kafka):
    ensure_topics(kafka)
    key = str(uuid.uuid4()).encode()
    producer = Producer(kafka.producer())
    delivered = []
    producer.produce(
        kafka.topics.jobs,
        key=key,
        value=b'{"hello": 1}',
        on_delivery=lambda err, msg: delivered.append((err, msg)),
    )
    producer.flush(10)
    err, msg = delivered[0]
    assert err is None

    consumer = Consumer(kafka.consumer(f"test-{uuid.uuid4()}"))
    consumer.assign([TopicPartition(kafka.topics.jobs, msg.partition(), msg.offset())])
    got = consumer.poll(10)
    consumer.close()
    assert got is not None and got.error() is None
    assert (got.key(), got.value()) == (key, b'{"hello": 1}')


def test_a_running_broker_is_reused(kafka_broker):
    if kafka_broker is None:
        pytest.skip("the run uses an existing cluster")
    pid = kafka_broker.running_pid()
    assert kafka_broker.start() is False
    assert kafka_broker.running_pid() == pid


def test_missing_java_says_what_to_install(monkeypatch):
    monkeypatch.setattr(java.shutil, "which", lambda name: None)
    with pytest.raises(
        BrokerError, match="install Java 17\\+ and Maven, or set KAFKA_BOOTSTRAP_SERVERS"
    ):
        java.require_java()


def test_missing_maven_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(jars.shutil, "which", lambda name: None)
    with pytest.raises(BrokerError, match="Maven not found: install Java 17\\+ and Maven"):
        jars.fetch_jars(tmp_path)
