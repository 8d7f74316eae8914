"""The pipeline's processes for one test (recorder, workers, web) over its own topics
and the test database."""

import io
import sys
import urllib.error
import urllib.request

from tools.ports import free_port
from tools.processes import ProcessGroup
from tools.sandbox import process_env
from tools.waiting import wait_until
from tools.web import SERVER


def env_for(config) -> dict[str, str]:
    return {**process_env(config), "DEBUG": "true", "OUTBOX_SWEEP_SECONDS": "1"}


class Stack:
    """The pipeline's processes (recorder, workers) for one test, over its own topics."""

    def __init__(self, env):
        self.env = env
        self.log = io.StringIO()
        self.group = ProcessGroup(self.log)

    def recorder(self, **env):
        return self.group.start(
            "recorder", [sys.executable, "manage.py", "record_events"], {**self.env, **env}
        )

    def worker(self, name, **env):
        return self.group.start(
            name, [sys.executable, "-m", "worker"], {**self.env, "WORKER_ID": name, **env}
        )

    def stop(self):
        self.group.stop_all(timeout=30)


def start_web(pipeline, name="web") -> str:
    """A daphne process over the Stack's topics and database; returns its base URL."""
    port = free_port()
    argv = [*SERVER, "-b", "127.0.0.1", "-p", str(port)]
    pipeline.group.start(name, [*argv, "webapp.asgi:application"], pipeline.env)
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: answers(f"{base}/healthz"), timeout=30, what=f"{name} to answer")
    return base


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False
