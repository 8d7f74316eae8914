import os
import subprocess
import sys

from tests.worker.conftest import REPO
from worker.liveness import Heartbeat, check


def test_a_fresh_heartbeat_is_alive_and_a_stale_or_missing_one_is_not(tmp_path):
    path = tmp_path / "alive"
    assert check(path, 60) == (False, f"no heartbeat: {path}: No such file or directory")

    Heartbeat(path).beat()
    ok, message = check(path, 60)
    assert ok and message.startswith("alive")

    os.utime(path, (0, 0))
    ok, message = check(path, 60)
    assert not ok and "stale heartbeat" in message


def test_beats_are_throttled(tmp_path):
    path = tmp_path / "alive"
    heartbeat = Heartbeat(path, every=3600)
    heartbeat.beat()
    os.utime(path, (0, 0))
    heartbeat.beat()
    assert path.stat().st_mtime == 0


def test_the_probe_command(tmp_path):
    path = tmp_path / "alive"
    env = {**os.environ, "WORKER_HEARTBEAT_FILE": str(path), "WORKER_LIVENESS_SECONDS": "30"}

    def probe():
        return subprocess.run(
            [sys.executable, "-m", "worker.liveness"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    missing = probe()
    assert missing.returncode == 1 and "no heartbeat" in missing.stderr
    path.touch()
    fresh = probe()
    assert fresh.returncode == 0 and "alive" in fresh.stdout
