import os
import signal
import subprocess
import sys
from pathlib import Path

from tools.waiting import wait_until

PARENT = """
import subprocess, sys, time
from streams.lifetime import die_with_parent
child = subprocess.Popen(["sleep", "60"], preexec_fn=die_with_parent)
print(child.pid, flush=True)
time.sleep(60)
"""


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie waits for whoever reaps orphans)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_a_tied_child_ends_when_its_parent_is_killed_outright():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    assert _running(child)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    wait_until(lambda: not _running(child), 10, "the tied child to end")
