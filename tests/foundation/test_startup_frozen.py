"""Every long-running process keeps the objects of its start-up out of the garbage
collector's way (streams/gcpause.py): full collections walking them paused the web
process and the recorder, and both pauses showed in the p99 of a live view."""

import gc
import os
import signal
import subprocess
import sys

import pytest

import worker.__main__ as worker_main
from webapp.core.loops import LoopCommand


@pytest.fixture
def unfrozen():
    """Other tests may have imported a module that froze this process's objects."""
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_the_web_process_freezes_its_start_up():
    code = "import gc, webapp.asgi; print(gc.get_freeze_count())"
    env = {**os.environ, "DEBUG": "true"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 10_000  # Django's and the site's objects


def test_a_loop_command_steps_with_its_start_up_frozen(unfrozen):
    class Probe(LoopCommand):
        frozen: int | None = None

        def step(self) -> bool:
            Probe.frozen = gc.get_freeze_count()
            os.kill(os.getpid(), signal.SIGINT)  # the loop's own way to stop
            return True

    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        Probe().handle()
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert Probe.frozen and Probe.frozen > 10_000


def test_the_worker_runs_with_its_start_up_frozen(unfrozen, monkeypatch):
    seen = {}

    class Built:
        def __init__(self, *args):
            seen["frozen when built"] = gc.get_freeze_count()

        def run(self):
            seen["frozen when run"] = gc.get_freeze_count()
            return 0

    monkeypatch.setattr(worker_main, "Worker", Built)
    assert worker_main.main() == 0
    assert seen["frozen when built"] == 0
    assert seen["frozen when run"] > 10_000
