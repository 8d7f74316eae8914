import io
import wave

import pytest

from streams.heartbeat import check
from streams.messages import DONE, PROGRESS, RUNNING, inflate
from tests.support.workers import committed_offsets, driving, job, log_ends, produce
from tools.waiting import wait_until

pytestmark = pytest.mark.kafka


def test_a_job_reports_running_progress_and_done_with_its_applause(
    config, outputs, start_worker, tmp_path
):
    worker = start_worker()
    first, second = job(claps=3), job(claps=1)
    produce(config, first, second)

    wait_until(
        lambda: outputs.final(first.id) and outputs.final(second.id),
        20,
        "both jobs done",
        tick=driving(worker, outputs),
    )

    events = outputs.of(first.id)
    assert [(e.type, e.done) for e in events] == [
        (RUNNING, 0),
        (PROGRESS, 1),
        (PROGRESS, 2),
        (PROGRESS, 3),
        (DONE, 3),
    ]
    assert [e.seq for e in events] == sorted({e.seq for e in events})
    running = events[0]
    assert (running.worker, running.total) == ("test-worker", 3)
    assert running.partition is not None and running.offset is not None
    with wave.open(io.BytesIO(inflate(events[-1].result_deflated))) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 16000)
        assert wav.getnframes() > 0
    assert outputs.types(second.id) == [RUNNING, PROGRESS, DONE]
    # A live member beats (its group state arrives with the next statistics).
    wait_until(
        lambda: check(tmp_path / "alive", max_age=10)[0], 10, "a heartbeat", tick=worker.step
    )


def test_offsets_are_committed_once_outcomes_are_confirmed(config, outputs, start_worker):
    worker = start_worker()
    jobs = [job(claps=1) for _ in range(6)]
    produce(config, *jobs)
    wait_until(
        lambda: all(outputs.final(j.id) for j in jobs), 20, "all jobs", driving(worker, outputs)
    )
    worker.stop()

    ends = {p: end for p, end in log_ends(config).items() if end}
    assert ends and committed_offsets(config) == ends
