import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from streams.config import kafka_config
from tests.support.workers import REPO, private_config, worker_env
from tools.broker.process import LocalBroker
from tools.ports import free_port
from tools.waiting import wait_until


def _probe(env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "worker.liveness"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_probe_command(tmp_path):
    path = tmp_path / "alive"
    env = {**os.environ, "WORKER_HEARTBEAT_FILE": str(path), "WORKER_LIVENESS_SECONDS": "30"}
    missing = _probe(env)
    assert missing.returncode == 1 and "no heartbeat" in missing.stderr
    path.touch()
    fresh = _probe(env)
    assert fresh.returncode == 0 and "alive" in fresh.stdout


def _start(env, log):
    """`python -m worker` with its output in the file `log`."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "worker"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


@pytest.mark.kafka
def test_the_probe_fails_once_the_broker_is_gone(kafka, tmp_path):
    """A worker whose broker is gone is no member of its group: its heartbeat stops,
    and the probe fails WORKER_LIVENESS_SECONDS (+ one statistics interval) later."""
    broker = LocalBroker(
        data_dir=tmp_path / "kafka", port=free_port(), controller_port=free_port(), tied=True
    )
    broker.start()
    worker = None
    try:
        config = private_config(dataclasses.replace(kafka, bootstrap_servers=broker.bootstrap))
        limit = 6.0
        env = worker_env(config, tmp_path, WORKER_ID="w-liveness")
        env["WORKER_LIVENESS_SECONDS"] = str(limit)
        log = tmp_path / "worker.log"
        worker = _start(env, log)
        wait_until(lambda: _probe(env).returncode == 0, 60, "the worker to join its group")
        assert "group membership live" in log.read_text()
        before = len(log.read_bytes())
        gone = time.monotonic()  # the broker goes away during its (clean) shutdown
        broker.stop()
        wait_until(lambda: _probe(env).returncode == 1, limit + 15, "the probe to fail")
        failed_after = time.monotonic() - gone
        assert failed_after >= limit - 1, "the heartbeat must outlive a short hiccup"
        assert "group membership lost" in log.read_bytes()[before:].decode(errors="replace")
    finally:
        if worker is not None:
            worker.kill()
            worker.wait(10)
        broker.stop()


def test_without_a_broker_the_worker_is_not_alive_and_says_so_once(tmp_path):
    """With no broker at all the heartbeat is never written, not even the one its
    predecessor left (a restarted container keeps the pod's emptyDir), and the outage
    is logged once, then every 30 s (it was hundreds of ERROR lines, one per
    reconnection)."""
    env = worker_env(
        dataclasses.replace(kafka_config(), bootstrap_servers=f"127.0.0.1:{free_port()}"),
        tmp_path,
        WORKER_ID="w-alone",
    )
    Path(env["WORKER_HEARTBEAT_FILE"]).touch()
    log = tmp_path / "worker.log"
    worker = _start(env, log)
    try:
        started = time.monotonic()

        def complaints() -> list[str]:
            lines = log.read_text(errors="replace").splitlines()
            return [line for line in lines if " ERROR " in line or " WARNING " in line]

        wait_until(complaints, 20, "the worker to report the missing broker")
        wait_until(lambda: time.monotonic() - started > 12, 15, "12 s without a broker")
        assert worker.poll() is None, log.read_text()
        assert _probe(env).returncode == 1
        assert len(complaints()) <= 3, "\n".join(complaints())
    finally:
        worker.kill()
        worker.wait(10)


@pytest.mark.kafka
def test_a_worker_the_group_gives_no_partition_is_live(config, start_worker):
    """More workers than partitions (a rolling update at full scale): the one left
    without a partition idles, and its probes must pass, or it is restarted forever
    and the rollout stalls."""
    partitions = config.topics.jobs_partitions
    workers = [start_worker() for _ in range(partitions + 1)]

    def assigned_and_live() -> bool:
        for worker in workers:
            worker.step()
        assigned = sum(len(worker.leases) for worker in workers) == partitions
        return assigned and all(worker.member for worker in workers)

    wait_until(assigned_and_live, 60, "every partition assigned and every worker live", interval=0)
    assert min(len(worker.leases) for worker in workers) == 0
