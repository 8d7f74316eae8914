import dataclasses
import io
import sys
import time
import uuid

import pytest

from streams.topics import ensure_topics
from webapp.claps import publisher as publisher_module
from webapp.ops.processes import ProcessGroup


def wait_for(condition, timeout=60.0, interval=0.1, what="condition"):
    """Poll until condition() is truthy; fail with `what` after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture
def isolated_kafka(kafka, settings):
    """Topics and groups of this test alone, for the site and its subprocesses."""
    tag = uuid.uuid4().hex[:8]
    topics = dataclasses.replace(
        kafka.topics,
        jobs=f"{tag}.jobs",
        events=f"{tag}.events",
        dlq=f"{tag}.dlq",
        control=f"{tag}.control",
        jobs_partitions=4,
        events_partitions=4,
    )
    config = dataclasses.replace(
        kafka, topics=topics, worker_group=f"{tag}-workers", recorder_group=f"{tag}-recorder"
    )
    ensure_topics(config)
    settings.KAFKA = config
    publisher_module.publisher.cache_clear()
    yield config
    publisher_module.publisher().flush(5)
    publisher_module.publisher.cache_clear()


def env_for(config, settings) -> dict[str, str]:
    t = config.topics
    return {
        "DEBUG": "true",
        "KAFKA_BOOTSTRAP_SERVERS": config.bootstrap_servers,
        "CLAP_JOBS_TOPIC": t.jobs,
        "CLAP_EVENTS_TOPIC": t.events,
        "CLAP_DLQ_TOPIC": t.dlq,
        "CLAP_CONTROL_TOPIC": t.control,
        "CLAP_JOBS_PARTITIONS": str(t.jobs_partitions),
        "CLAP_EVENTS_PARTITIONS": str(t.events_partitions),
        "WORKER_GROUP": config.worker_group,
        "RECORDER_GROUP": config.recorder_group,
        "DATABASE_URL": f"sqlite:///{settings.DATABASES['default']['NAME']}",
        "OUTBOX_SWEEP_SECONDS": "1",
    }


class Stack:
    """The pipeline's processes (recorder, workers) for one test, over its own topics."""

    def __init__(self, env):
        self.env = env
        self.log = io.StringIO()
        self.group = ProcessGroup(self.log)

    def recorder(self):
        return self.group.start(
            "recorder", [sys.executable, "manage.py", "record_events"], self.env
        )

    def worker(self, name, **env):
        return self.group.start(
            name, [sys.executable, "-m", "worker"], {**self.env, "WORKER_ID": name, **env}
        )

    def stop(self):
        self.group.stop_all(timeout=30)


@pytest.fixture
def stack(isolated_kafka, settings, transactional_db):
    s = Stack(env_for(isolated_kafka, settings))
    yield s
    s.stop()
    print(s.log.getvalue()[-20000:])  # shown by pytest when the test failed
