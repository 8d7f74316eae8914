"""Every long-running process keeps the objects of its start-up out of the garbage
collector's way (streams/gcpause.py): full collections walking them paused the web
process and the recorder, and both pauses showed in the p99 of a live view.

Each case runs in a fresh interpreter, as the process does: freezing, logging set-up
and signal handlers are process-wide, and the test process's own state would say
nothing about them."""

import os
import subprocess
import sys

# What each probe prints: lines of `frozen <count>`.
LOOP = """
import gc, os, signal
from webapp.core.loops import LoopCommand

class Probe(LoopCommand):
    def step(self):
        print("frozen", gc.get_freeze_count(), flush=True)
        os.kill(os.getpid(), signal.SIGINT)  # the loop's own way to stop
        return True

Probe().handle()
"""
WORKER = """
import gc
import worker.__main__ as main

class Built:
    def __init__(self, *args):
        print("frozen", gc.get_freeze_count(), flush=True)

    def run(self):
        print("frozen", gc.get_freeze_count(), flush=True)
        return 0

main.Worker = Built
raise SystemExit(main.main())
"""


def _frozen(code: str) -> list[int]:
    env = {**os.environ, "DEBUG": "true"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    return [int(line.split()[1]) for line in done.stdout.splitlines() if line.startswith("frozen")]


def test_the_web_process_freezes_its_start_up():
    [count] = _frozen("import gc, webapp.asgi; print('frozen', gc.get_freeze_count())")
    assert count > 10_000  # Django's and the site's objects


def test_a_loop_command_steps_with_its_start_up_frozen():
    [count] = _frozen(LOOP)
    assert count > 10_000


def test_the_worker_is_built_unfrozen_and_runs_frozen():
    built, running = _frozen(WORKER)
    assert built == 0
    assert running > 10_000
