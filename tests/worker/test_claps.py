import io
import time
import wave

import pytest

from tests.support.workers import job
from tests.worker.fakes import FakeReporter, RecordingEnd, ticket
from worker.cancellations import CancelledJobs
from worker.claps import INTERRUPTED, MALFORMED, Performer, backoff_seconds
from worker.metrics import Metrics
from worker.offsets import Lease
from worker.settings import WorkerSettings


def performer(cancelled=None, **settings):
    values = {"worker_id": "w", "clap_work_ms": 0, "retry_backoff_ms": 100, **settings}
    reporter = FakeReporter()
    metrics = Metrics()
    return (
        Performer(
            WorkerSettings(**values),
            reporter,
            CancelledJobs() if cancelled is None else cancelled,
            metrics,
        ),
        reporter,
        metrics,
    )


def _value(metrics, name, **labels):
    return metrics.registry.get_sample_value(name, labels or None)


def test_backoff_doubles():
    assert [backoff_seconds(100, a) for a in (1, 2, 3, 4)] == [0.1, 0.2, 0.4, 0.8]
    assert backoff_seconds(0, 3) == 0


def test_each_clap_is_followed_by_progress_and_the_result_is_a_wav():
    perform, reporter, metrics = performer()
    assert perform.handle(ticket(job(claps=3).encode())) == "done"

    assert reporter.kinds() == ["running", "progress", "progress", "progress", "done"]
    assert [args for kind, args, _ in reporter.calls if kind == "progress"] == [(1,), (2,), (3,)]
    with wave.open(io.BytesIO(reporter.calls[-1][1][0])) as wav:
        assert wav.getnchannels() == 1
    assert _value(metrics, "clapstream_worker_claps_total") == 3
    assert _value(metrics, "clapstream_worker_jobs_done_total") == 1


def test_a_failing_clap_is_retried_with_backoff_then_the_job_fails():
    perform, reporter, metrics = performer(max_attempts=3, retry_backoff_ms=100)
    lease = Lease("jobs", 0, ended=RecordingEnd())
    assert perform.handle(ticket(job(claps=4, fail_at_clap=2).encode(), lease=lease)) == "failed"

    assert lease.ended.waits == [0.1, 0.2]
    assert reporter.kinds() == ["running", "progress", "failed"]
    _, (error,), fields = reporter.calls[-1]
    assert error == "clap 2 of 4 failed 3 times: ClapError: injected failure at clap 2"
    assert fields == {"done": 1, "attempts": 3}
    assert _value(metrics, "clapstream_worker_jobs_failed_total") == 1
    assert _value(metrics, "clapstream_worker_jobs_dead_lettered_total", reason="exhausted") == 1


def test_a_stopping_worker_abandons_a_retry():
    perform, reporter, _ = performer(max_attempts=5)
    lease = Lease("jobs", 0, ended=RecordingEnd())
    original_wait = lease.ended.wait

    def wait_then_stop(timeout=None):
        lease.ended.set()
        return original_wait(timeout)

    lease.ended.wait = wait_then_stop
    assert perform.handle(ticket(job(claps=2, fail_at_clap=1).encode(), lease=lease)) == (
        INTERRUPTED
    )
    assert reporter.kinds() == ["running"]  # no outcome: the job will be redelivered


def test_an_ended_lease_stops_the_job_before_its_next_clap():
    perform, reporter, _ = performer()
    lease = Lease("jobs", 0)
    lease.ended.set()
    assert perform.handle(ticket(job(claps=3).encode(), lease=lease)) == INTERRUPTED
    assert reporter.kinds() == ["running"]


class CancelledAfter(CancelledJobs):
    """Says a job is cancelled from its n-th check on."""

    def __init__(self, checks):
        super().__init__()
        self.checks = checks

    def __contains__(self, job):
        self.checks -= 1
        return self.checks < 0


def test_a_cancelled_job_stops_before_its_next_clap():
    perform, reporter, metrics = performer(cancelled=CancelledAfter(3))
    assert perform.handle(ticket(job(claps=5).encode())) == "cancelled"
    assert reporter.kinds() == ["running", "progress", "progress", "cancelled"]
    assert reporter.calls[-1][2] == {"done": 2}
    assert _value(metrics, "clapstream_worker_jobs_cancelled_total") == 1


def test_a_job_cancelled_before_pickup_is_only_reported_cancelled():
    perform, reporter, _ = performer(cancelled=CancelledAfter(0))
    assert perform.handle(ticket(job(claps=5).encode())) == "cancelled"
    assert reporter.calls == [("cancelled", (), {"done": 0})]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"{", "not JSON"),
        (None, "empty message (no value)"),
        (b'{"v":2}', "unknown schema version 2"),
        (b'{"v":1,"id":"1","claps":1}', "field 'id' is not a UUID"),
    ],
)
def test_a_malformed_message_is_handed_to_the_dead_letters(value, reason):
    perform, reporter, metrics = performer()
    assert perform.handle(ticket(value)) == MALFORMED
    assert reporter.calls == [("malformed", (reason,), {})]
    assert _value(metrics, "clapstream_worker_jobs_dead_lettered_total", reason="malformed") == 1


def test_latency_is_split_into_queue_wait_and_work():
    perform, _, metrics = performer(clap_work_ms=20)
    submitted = time.time() - 3.0
    assert perform.handle(ticket(job(claps=3, submitted_at=submitted).encode())) == "done"

    wait = _value(metrics, "clapstream_worker_job_queue_wait_seconds_sum")
    assert 3.0 <= wait < 10.0
    assert _value(metrics, "clapstream_worker_job_queue_wait_seconds_count") == 1
    work = _value(metrics, "clapstream_worker_job_work_seconds_sum")
    assert 0.06 <= work < 3.0, "three claps of 20 ms, not the time spent queued"
    assert _value(metrics, "clapstream_worker_job_work_seconds_bucket", le="0.05") == 0
    assert _value(metrics, "clapstream_worker_job_work_seconds_bucket", le="+Inf") == 1


def test_a_job_continues_its_trace_with_a_span_per_clap_attempt(spans):
    perform, _, _ = performer(max_attempts=3, retry_backoff_ms=0)
    header = [("traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")]
    value = job(claps=3, fail_at_clap=2).encode()
    assert perform.handle(ticket(value, headers=header)) == "failed"
    finished = spans.get_finished_spans()
    assert {f"{s.context.trace_id:032x}" for s in finished} == {"4bf92f3577b34da6a3ce929d0e0e4736"}
    (root,) = [s for s in finished if s.name == "clap job"]
    assert f"{root.parent.span_id:016x}" == "00f067aa0ba902b7"
    attempts = [s for s in finished if s.parent.span_id == root.context.span_id]
    assert [(s.attributes["clap"], s.attributes["attempt"]) for s in attempts] == [
        (1, 1),
        (2, 1),
        (2, 2),
        (2, 3),
    ]
    assert [s.status.is_ok for s in attempts] == [True, False, False, False]
    assert root.attributes["outcome"] == "failed"
