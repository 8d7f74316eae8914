import logging
import re

import pytest

from tests.support.workers import driving, job, produce
from tools.waiting import wait_until

pytestmark = pytest.mark.kafka


def test_a_full_backlog_pauses_the_partitions_until_it_has_drained(
    config, outputs, start_worker, caplog
):
    caplog.set_level(logging.DEBUG, logger="worker.slot")
    worker = start_worker(clap_work_ms=20, backlog_seconds=0.04)  # room for 2 jobs
    jobs = [job(claps=1) for _ in range(8)]
    produce(config, *jobs, partition=0)
    slot = worker.slot
    most = 0

    def tick():
        nonlocal most
        driving(worker, outputs)()
        most = max(most, slot.queued)

    wait_until(lambda: all(outputs.final(j.id) for j in jobs), 30, "every job", tick)

    assert re.search(r"paused \d+ partition", caplog.text), "the full backlog paused"
    assert re.search(r"resumed \d+ partition", caplog.text), "the drained backlog resumed"
    assert most <= slot.limit + 1
