"""The sampler: one row per partition and group each step, commit ages, retention, and
a loop that stops cleanly on SIGTERM."""

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.kafka import commit, produce_jobs
from tests.support.pipeline import env_for
from tools.waiting import wait_until
from webapp.dashboard.models import GroupSample, PartitionSample
from webapp.dashboard.sampler import Sampler

pytestmark = pytest.mark.kafka


def _latest(group, partition):
    return PartitionSample.objects.filter(group=group, partition=partition).latest("at")


@pytest.mark.django_db
def test_commit_age_and_retention(isolated_kafka, sampler):
    config, group = isolated_kafka, isolated_kafka.worker_group
    old = datetime.now(UTC) - timedelta(hours=2)
    GroupSample.objects.create(at=old, group=group, topic=config.topics.jobs, log_end=0, position=0)
    commit(config, group, {0: 0, 1: 0})
    assert sampler.sample_step()
    assert not GroupSample.objects.filter(at=old).exists(), "older than the retention"
    assert _latest(group, 0).moved_at is None  # not seen moving yet
    assert _latest(group, 2).committed is None

    waiting = produce_jobs(config, 8, partition=0)
    commit(config, group, {0: waiting[0]})
    assert sampler.sample_step()
    moved = _latest(group, 0)
    assert moved.moved_at == moved.at
    assert _latest(group, 1).moved_at is None

    restarted = Sampler(config, retention=timedelta(hours=1))
    try:
        assert restarted.sample_step()
    finally:
        restarted.close()
    assert _latest(group, 0).moved_at == moved.at  # carried over from the database
    assert GroupSample.objects.filter(group=config.recorder_group).count() == 3


@pytest.mark.django_db(transaction=True)
def test_the_command_samples_until_sigterm(isolated_kafka, tmp_path):
    heartbeat = tmp_path / "alive"
    env = {
        **os.environ,
        **env_for(isolated_kafka),
        "SAMPLE_INTERVAL": "0.5",
        "SAMPLER_HEARTBEAT_FILE": str(heartbeat),
    }
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "sample_streams"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(
            lambda: GroupSample.objects.filter(group=isolated_kafka.worker_group).count() >= 2,
            timeout=20,
            what="two samples",
        )
        assert heartbeat.exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0, output.decode()
    assert b"sampler stopped" in output
