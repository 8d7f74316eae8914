import logging

import pytest

from tests.worker.conftest import driving, job, produce, wait_until

pytestmark = pytest.mark.kafka


def test_a_full_slot_pauses_its_partitions_until_it_has_drained(
    config, outputs, start_worker, caplog
):
    caplog.set_level(logging.DEBUG, logger="worker.app")
    worker = start_worker(clap_work_ms=20, backlog_seconds=0.04)  # room for 2 jobs
    jobs = [job(claps=1) for _ in range(8)]
    produce(config, *jobs, partition=0)
    slot = worker.slots.slots[0]
    most = 0

    def tick():
        nonlocal most
        driving(worker, outputs)()
        most = max(most, slot.queued)

    wait_until(lambda: all(outputs.final(j.id) for j in jobs), 30, "every job", tick)

    assert "paused slot 0" in caplog.text and "resumed slot 0" in caplog.text
    assert most <= slot.limit + 1
