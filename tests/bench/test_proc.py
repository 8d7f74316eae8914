"""The benchmark's /proc readings: a service found by its port, weighed with its children."""

import os
import socket
import subprocess
import sys

from tools.bench.proc import cpu_seconds, listening_pid, tree_cpu_seconds

# The readings are whole clock ticks summed as floats: compared within half a tick.
HALF_TICK = 0.5 / os.sysconf("SC_CLK_TCK")
BURN = "import time\nwhile time.process_time() < 0.3: pass\nprint('burnt', flush=True)\ninput()"


def test_the_listener_of_a_port_is_found_and_a_free_port_has_none():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        assert listening_pid(port) is None  # bound, not listening
        sock.listen()
        assert listening_pid(port) == os.getpid()


def test_a_tree_counts_its_live_children_and_keeps_them_once_reaped():
    mine = tree_cpu_seconds(os.getpid())
    child = subprocess.Popen(
        [sys.executable, "-c", BURN], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout.readline() == "burnt\n"
    burnt = cpu_seconds(child.pid)
    assert burnt >= 0.25  # whole clock ticks
    assert tree_cpu_seconds(os.getpid()) >= mine + burnt - HALF_TICK
    child.communicate("\n")  # exits and is reaped: its time moves into ours
    assert tree_cpu_seconds(os.getpid()) >= mine + burnt - HALF_TICK
