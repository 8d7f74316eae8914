import dataclasses
import uuid

import pytest
from confluent_kafka.admin import AdminClient

from streams.topics import ensure_topics
from tools.waiting import wait_until

pytestmark = pytest.mark.kafka


def _private_topics(kafka, **counts):
    tag = uuid.uuid4().hex[:8]
    topics = dataclasses.replace(
        kafka.topics,
        jobs=f"t{tag}.jobs",
        events=f"t{tag}.events",
        dlq=f"t{tag}.dlq",
        control=f"t{tag}.control",
        **counts,
    )
    return dataclasses.replace(kafka, topics=topics)


def _partitions(kafka, topic):
    return len(AdminClient(kafka.admin()).list_topics(topic, timeout=10).topics[topic].partitions)


def _settled(kafka, topic, count):
    """The controller has made the change; the broker's metadata follows a moment later."""
    wait_until(lambda: _partitions(kafka, topic) == count, 10, f"{topic} with {count} partitions")


def test_creates_then_is_idempotent(kafka):
    config = _private_topics(kafka, jobs_partitions=4, events_partitions=3, dlq_partitions=1)
    first = ensure_topics(config)
    assert f"created {config.topics.jobs} with 4 partitions" in first
    t = config.topics
    for topic, count in ((t.jobs, 4), (t.events, 3), (t.dlq, 1), (t.control, 1)):
        _settled(config, topic, count)

    second = ensure_topics(config)
    assert f"{config.topics.jobs} already has 4 partitions" in second
    assert not any(line.startswith("created") for line in second)


def test_grows_but_never_shrinks(kafka):
    config = _private_topics(kafka, jobs_partitions=2)
    ensure_topics(config)
    _settled(config, config.topics.jobs, 2)
    grown = dataclasses.replace(
        config, topics=dataclasses.replace(config.topics, jobs_partitions=6)
    )
    assert f"grew {config.topics.jobs} from 2 to 6 partitions" in ensure_topics(grown)
    _settled(config, config.topics.jobs, 6)

    shrunk = dataclasses.replace(
        config, topics=dataclasses.replace(config.topics, jobs_partitions=3)
    )
    report = ensure_topics(shrunk)
    assert any("cannot shrink" in line and config.topics.jobs in line for line in report)
    assert _partitions(config, config.topics.jobs) == 6
