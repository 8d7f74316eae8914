"""`make run` starts again a process that exits (tools/supervisor.py), waiting longer
while it keeps crashing, as Kubernetes does with a pod's container."""

import io
import re
import signal
import sys
from functools import partial

from tools.processes import ProcessGroup
from tools.supervisor import Supervisor
from tools.waiting import wait_until

CRASH = [sys.executable, "-c", "raise SystemExit(3)"]
SERVE = [sys.executable, "-c", "import time; time.sleep(120)"]


def _waits(out: io.StringIO) -> list[str]:
    return re.findall(r"exited \((-?\d+)\); starting it again in (\d+) s", out.getvalue())


def _exited(group: ProcessGroup, name: str) -> None:
    child = group.children[name]
    wait_until(lambda: not child.running, 10, f"{name} to exit")


def test_a_crashing_process_is_started_again_ever_later():
    now, out = [100.0], io.StringIO()
    group = ProcessGroup(out)
    supervisor = Supervisor(group, clock=lambda: now[0])
    try:
        supervisor.start("crasher", partial(group.start, "crasher", CRASH))
        for wait in (1, 2, 4):
            _exited(group, "crasher")
            supervisor.check()
            assert _waits(out)[-1] == ("3", str(wait))
            before = supervisor.restarts
            now[0] += wait - 0.5
            supervisor.check()
            assert supervisor.restarts == before  # not before its wait
            now[0] += 0.5
            supervisor.check()
            assert supervisor.restarts == before + 1
    finally:
        group.stop_all(timeout=10)


def test_a_process_that_ran_a_while_is_started_again_at_once():
    now, out = [100.0], io.StringIO()
    group = ProcessGroup(out)
    supervisor = Supervisor(group, clock=lambda: now[0])
    try:
        first = supervisor.start("server", partial(group.start, "server", SERVE))
        now[0] += 60
        first.proc.send_signal(signal.SIGKILL)
        _exited(group, "server")
        supervisor.check()
        assert _waits(out) == [("-9", "0")]
        assert supervisor.restarts == 1 and group.children["server"].running
        supervisor.check()
        assert supervisor.restarts == 1  # running: left alone
    finally:
        group.stop_all(timeout=10)
