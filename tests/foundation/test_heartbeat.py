import os
import subprocess
import sys
import time

from streams.heartbeat import Heartbeat, check


def test_fresh_stale_and_missing(tmp_path):
    path = tmp_path / "alive"
    assert check(path, 60)[0] is False
    Heartbeat(path).beat()
    assert check(path, 60)[0] is True
    old = time.time() - 120
    os.utime(path, (old, old))
    ok, why = check(path, 60)
    assert not ok and "stale" in why


def test_a_new_heartbeat_does_not_speak_for_its_predecessor(tmp_path):
    path = tmp_path / "alive"
    path.touch()  # a restarted container's predecessor beat a moment ago
    Heartbeat(path)
    assert check(path, 60) == (False, f"no heartbeat: {path}: No such file or directory")


def test_beats_are_throttled(tmp_path):
    path = tmp_path / "alive"
    heartbeat = Heartbeat(path, every=3600)
    heartbeat.beat()
    os.utime(path, (0, 0))
    heartbeat.beat()
    assert path.stat().st_mtime == 0


def test_the_probe_command_exit_codes(tmp_path):
    path = tmp_path / "alive"
    probe = [sys.executable, "-m", "streams.heartbeat", str(path), "--max-age", "30"]
    assert subprocess.run(probe, capture_output=True, check=False).returncode == 1
    path.touch()
    assert subprocess.run(probe, capture_output=True, check=False).returncode == 0


def test_the_probe_can_read_the_path_from_the_loops_variable(tmp_path):
    path = tmp_path / "alive"
    path.touch()
    probe = [sys.executable, "-m", "streams.heartbeat", "--env", "SOME_HEARTBEAT_FILE"]
    env = {**os.environ, "SOME_HEARTBEAT_FILE": str(path)}
    assert subprocess.run(probe, env=env, capture_output=True, check=False).returncode == 0
    unset = subprocess.run(probe, capture_output=True, text=True, check=False)
    assert unset.returncode == 2 and "SOME_HEARTBEAT_FILE is not set" in unset.stderr
