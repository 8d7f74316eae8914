"""Daemons outlive their starter and `stop_all` leaves nothing of their groups behind."""

from pathlib import Path

import pytest

from tools.cluster.daemons import Daemons, group_members
from tools.cluster.plane import wait_until


@pytest.fixture
def daemons(tmp_path):
    d = Daemons(tmp_path, tied=True)
    yield d
    d.stop_all(timeout=1)


def test_stop_all_ends_every_process_of_every_group(daemons):
    first = daemons.start("pair", ["sh", "-c", "sleep 300 & sleep 300; true"])
    second = daemons.start("single", ["sleep", "300"])
    assert [r.name for r in daemons.records()] == ["pair", "single"]
    assert all(r.alive() for r in daemons.records())
    assert len(group_members(first.pid)) == 3  # the shell and its two sleeps
    assert group_members(second.pid) == [second.pid]

    assert daemons.stop_all() == ["single", "pair"]  # newest first
    assert group_members(first.pid) == group_members(second.pid) == []
    assert daemons.records() == []


def test_a_daemon_ignoring_sigterm_is_killed(daemons):
    stubborn = daemons.start("stubborn", ["sh", "-c", "trap '' TERM; sleep 300; true"])
    daemons.stop(stubborn, timeout=0.5)
    assert group_members(stubborn.pid) == []


def test_output_goes_to_the_daemons_log(daemons):
    record = daemons.start("talker", ["sh", "-c", "echo hello from the daemon; sleep 300"])
    wait_until(lambda: "hello from the daemon" in Path(record.log).read_text(), 10, "the echo")


def test_a_reused_pid_is_not_taken_for_the_daemon(daemons):
    record = daemons.start("short", ["sleep", "300"])
    impostor = record.__class__(**{**record.__dict__, "argv": ["/bin/something-else"]})
    assert record.alive() and not impostor.alive()
