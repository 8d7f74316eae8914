import os
import subprocess
import sys

from tests.support.workers import REPO


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
