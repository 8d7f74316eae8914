import pytest

from streams.messages import CANCELLED, DONE, PROGRESS, CancelRequest, now
from tests.support.workers import committed_offsets, driving, job, produce
from tools.waiting import wait_until

pytestmark = pytest.mark.kafka


def test_cancel_requests_stop_a_running_and_skip_a_queued_job(config, outputs, start_worker):
    worker = start_worker(clap_work_ms=50)
    running, queued, after = job(claps=40), job(claps=2), job(claps=1)
    produce(config, running, queued, after, partition=0)
    tick = driving(worker, outputs)
    wait_until(lambda: PROGRESS in outputs.types(running.id), 20, "the first job running", tick)

    # The queued job's request first: the control topic is read in order, so it is
    # known before the running job stops and the worker takes the next one.
    produce(
        config,
        *[(j.id, CancelRequest(j.id, now()).encode()) for j in (queued, running)],
        topic=config.topics.control,
    )
    wait_until(lambda: outputs.final(after.id), 20, "the job after the cancelled ones", tick)

    stopped = outputs.final(running.id)
    assert stopped.type == CANCELLED and 1 <= stopped.done < 40
    assert outputs.types(queued.id) == [CANCELLED]
    assert outputs.final(after.id).type == DONE
    worker.stop()
    assert committed_offsets(config)[0] == 3


def test_a_job_cancelled_before_the_worker_starts_is_skipped(config, outputs, start_worker):
    cancelled = job(claps=5)
    produce(
        config,
        (cancelled.id, CancelRequest(cancelled.id, now()).encode()),
        topic=config.topics.control,
    )
    produce(config, cancelled)
    worker = start_worker()
    wait_until(lambda: outputs.final(cancelled.id), 20, "the outcome", driving(worker, outputs))
    assert outputs.types(cancelled.id) == [CANCELLED]
