import io
import sys
import time

import pytest

from tools.processes import ProcessGroup
from tools.sandbox import private_kafka, process_env
from webapp.claps.publisher import reset_publisher


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
    config = private_kafka(kafka, partitions=4)
    settings.KAFKA = config
    reset_publisher()
    yield config
    reset_publisher()


def env_for(config) -> dict[str, str]:
    return {**process_env(config), "DEBUG": "true", "OUTBOX_SWEEP_SECONDS": "1"}


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
    s = Stack(env_for(isolated_kafka))
    yield s
    s.stop()
    print(s.log.getvalue()[-20000:])  # shown by pytest when the test failed
