import socket
from pathlib import Path

import pytest

from streams.config import KafkaConfig
from streams.envvars import ConfigError
from worker.app import consumer_config
from worker.settings import WorkerSettings

NAMES = [
    "WORKER_ID",
    "WORKER_INSTANCE_ID",
    "WORKER_GROUP_PROTOCOL",
    "WORKER_BACKLOG_SECONDS",
    "CLAP_WORK_MS",
    "RETRY_BACKOFF_MS",
    "MAX_ATTEMPTS",
    "WORKER_GRACE_SECONDS",
    "WORKER_HEARTBEAT_FILE",
    "WORKER_LIVENESS_SECONDS",
    "WORKER_METRICS_PORT",
    "LOG_LEVEL",
]


@pytest.fixture
def env(monkeypatch):
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults(env):
    s = WorkerSettings.from_env()
    assert s.worker_id.startswith(f"{socket.gethostname()}-")
    assert (s.instance_id, s.group_protocol, s.backlog_seconds) == ("", "consumer", 5.0)
    assert (s.clap_work_ms, s.retry_backoff_ms, s.max_attempts) == (200, 100, 3)
    assert (s.grace_seconds, s.liveness_seconds, s.metrics_port) == (20.0, 60.0, 0)
    assert s.heartbeat_file == Path("/tmp/clapstream-worker.alive")


def test_values_from_the_environment(env):
    env.setenv("WORKER_ID", "w-7")
    env.setenv("WORKER_INSTANCE_ID", "clap-worker-0")
    env.setenv("WORKER_GROUP_PROTOCOL", "Classic")
    env.setenv("WORKER_BACKLOG_SECONDS", "0.5")
    env.setenv("CLAP_WORK_MS", "0")
    env.setenv("LOG_LEVEL", "debug")
    s = WorkerSettings.from_env()
    assert s.log_level == "DEBUG"
    assert (s.worker_id, s.instance_id, s.group_protocol) == ("w-7", "clap-worker-0", "classic")
    assert (s.backlog_seconds, s.clap_work_ms) == (0.5, 0)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("WORKER_GROUP_PROTOCOL", "eager", "is not one of consumer, classic"),
        ("LOG_LEVEL", "LOUD", "is not one of DEBUG, INFO, WARNING, ERROR"),
        ("WORKER_BACKLOG_SECONDS", "0", "below the minimum"),
        ("CLAP_WORK_MS", "fast", "not an integer"),
        ("MAX_ATTEMPTS", "0", "below the minimum"),
        ("WORKER_ID", "w" * 121, "longer than 120 characters"),
    ],
)
def test_bad_values_fail_loudly(env, name, value, message):
    env.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        WorkerSettings.from_env()


def test_the_consumer_follows_the_group_protocol():
    kafka = KafkaConfig("127.0.0.1:1")
    modern = consumer_config(WorkerSettings(worker_id="a"), kafka)
    assert modern["group.protocol"] == "consumer"
    assert "partition.assignment.strategy" not in modern
    assert "group.instance.id" not in modern
    assert modern["enable.auto.offset.store"] is False

    classic = consumer_config(
        WorkerSettings(worker_id="a", group_protocol="classic", instance_id="pod-1"), kafka
    )
    assert classic["partition.assignment.strategy"] == "cooperative-sticky"
    assert classic["group.instance.id"] == "pod-1"
