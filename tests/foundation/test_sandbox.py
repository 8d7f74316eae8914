"""A benchmark's private slice of Kafka leaves nothing behind on a broker that stays."""

import dj_database_url
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from django.conf import settings

from streams.config import kafka_config
from streams.topics import topic_specs
from tools.sandbox import drop_private_kafka, private_kafka, process_env, undone_on_failure
from tools.waiting import wait_until

pytestmark = pytest.mark.kafka


def test_dropping_a_private_slice_deletes_its_topics_and_its_groups_offsets(kafka):
    config = private_kafka(kafka, partitions=2, prefix="drop")
    producer = Producer(config.producer())
    producer.produce(config.topics.jobs, value=b"x", partition=0)
    producer.flush(10)
    consumer = Consumer(config.consumer(config.worker_group))
    consumer.commit(offsets=[TopicPartition(config.topics.jobs, 0, 1)], asynchronous=False)
    consumer.close()
    admin = AdminClient(config.admin())
    names = {spec.name for spec in topic_specs(config)}
    assert names <= set(admin.list_topics(timeout=10).topics)
    groups = {g.group_id for g in admin.list_consumer_groups().result().valid}
    assert config.worker_group in groups

    drop_private_kafka(config)

    # The deletion is committed; the broker's metadata follows a moment later.
    wait_until(lambda: not names & set(admin.list_topics(timeout=10).topics), 30, "deletion")
    groups = {g.group_id for g in admin.list_consumer_groups().result().valid}
    assert config.worker_group not in groups
    drop_private_kafka(config)  # a second drop, as after an interrupted run, is no error


class _Stage:
    def __init__(self, kafka):
        self.kafka = private_kafka(kafka, partitions=1, prefix="stage")
        self.exits = []

    def __enter__(self):
        with undone_on_failure(self):
            raise TimeoutError("a worker that never joined")

    def __exit__(self, *exc):
        self.exits.append(exc[0])
        drop_private_kafka(self.kafka)


def test_a_stage_that_fails_to_start_drops_its_slice(kafka):
    stage = _Stage(kafka)
    admin = AdminClient(kafka.admin())
    names = {spec.name for spec in topic_specs(stage.kafka)}
    with pytest.raises(TimeoutError, match="never joined"), stage:
        pytest.fail("the stage's body ran although it never started")
    assert stage.exits == [TimeoutError]
    wait_until(lambda: not names & set(admin.list_topics(timeout=10).topics), 30, "deletion")


def test_processes_started_from_a_test_use_its_postgresql_database(monkeypatch):
    """Under the test runner that is the test database, not the one DATABASE_URL names."""
    db = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "test_clapstream",
        "USER": "clap",
        "PASSWORD": "p@ss:/word",
        "HOST": "127.0.0.1",
        "PORT": 5544,
    }
    monkeypatch.setitem(settings.DATABASES, "default", db)
    parsed = dj_database_url.parse(process_env(kafka_config())["DATABASE_URL"])
    assert {k: parsed[k] for k in db} == db
