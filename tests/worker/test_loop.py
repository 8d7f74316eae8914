"""The poll loop's reactions to what the consumer reports (no broker needed)."""

import pytest
from confluent_kafka import KafkaError

from streams.config import KafkaConfig
from tests.support.workers import settings_for
from worker.app import Worker


class ErrorMessage:
    def __init__(self, error: KafkaError):
        self._error = error

    def error(self):
        return self._error


@pytest.fixture
def worker(tmp_path):
    worker = Worker(settings_for(tmp_path), KafkaConfig("127.0.0.1:9"))  # nothing listens
    yield worker
    worker.stop()


def test_leaving_the_group_by_exceeding_max_poll_interval_exits_non_zero(worker):
    worker.take(ErrorMessage(KafkaError(KafkaError._MAX_POLL_EXCEEDED)))
    assert (worker.shutdown, worker.exit_code) == (True, 1)


def test_a_fatal_error_polled_from_the_consumer_exits_non_zero(worker):
    unreleased = "The instance ID is still used by another member in the consumer group"
    worker.take(ErrorMessage(KafkaError(KafkaError._FATAL, unreleased)))
    assert (worker.shutdown, worker.exit_code) == (True, 1)


def test_a_fatal_client_error_exits_non_zero(worker):
    worker._on_client_error(KafkaError(KafkaError._FENCED, "fenced", fatal=True))
    assert (worker.shutdown, worker.exit_code) == (True, 1)


def test_transient_errors_are_only_logged(worker, caplog):
    worker.take(ErrorMessage(KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART)))
    worker._on_client_error(KafkaError(KafkaError._ALL_BROKERS_DOWN))
    assert (worker.shutdown, worker.exit_code) == (False, 0)
    assert "UNKNOWN_TOPIC_OR_PART" in caplog.text


def test_the_loop_beats_only_while_healthy(worker):
    alive = worker.settings.heartbeat_file
    worker.heartbeat.every = 0
    worker.step()
    assert not alive.exists(), "not yet a member of the group"
    worker.on_stats('{"cgrp": {"state": "up", "join_state": "steady"}}')
    worker.step()
    assert alive.exists()

    alive.unlink()
    worker.on_stats('{"cgrp": {"state": "query-coord", "join_state": "steady"}}')
    worker.step()
    assert not alive.exists(), "the coordinator is unreachable"
    worker.on_stats('{"cgrp": {"state": "up", "join_state": "steady"}}')

    worker.step()
    alive.unlink()
    worker.fail("lost the group")
    worker.step()
    assert not alive.exists()
