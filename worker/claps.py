"""Performing a job: its claps one by one, with retries, cancellation and stopping.

Each clap is a unit of work (CLAP_WORK_MS) followed by a progress event. A clap that
raises is retried with exponential backoff; when its attempts are used up the job
fails and its message is dead-lettered. Before each clap the job checks whether it
was cancelled (it then reports so and is finished) or whether its partition was taken
away or the worker is stopping (it then just stops, unstored, to be redelivered).
"""

import logging
import time

from streams import logs, tracing
from streams.messages import CANCELLED, DONE, FAILED, JobRequest, MalformedMessage, now
from worker.applause import synthesize
from worker.cancellations import CancelledJobs
from worker.metrics import Metrics
from worker.offsets import Ticket
from worker.reporter import Reporter
from worker.settings import WorkerSettings

log = logging.getLogger(__name__)

INTERRUPTED = "interrupted"
MALFORMED = "malformed"


class ClapError(RuntimeError):
    """A clap went wrong."""


class Interrupted(Exception):
    """The job's partition was taken away or the worker is stopping."""


def backoff_seconds(base_ms: int, attempt: int) -> float:
    """The wait after failed attempt `attempt` (1-based): base, 2 x base, 4 x base, ..."""
    return base_ms * 2 ** (attempt - 1) / 1000


class Performer:
    def __init__(
        self,
        settings: WorkerSettings,
        reporter: Reporter,
        cancelled: CancelledJobs,
        metrics: Metrics,
    ) -> None:
        self.settings = settings
        self.reporter = reporter
        self.cancelled = cancelled
        self.metrics = metrics

    def handle(self, ticket: Ticket) -> str:
        """Decode and perform one polled message; return how it ended. Everything logged
        meanwhile names the message and its job, inside the job's trace."""
        msg = ticket.message
        with (
            tracing.about_message(msg, worker=self.settings.worker_id),
            tracing.span(
                "clap job",
                kind="consumer",
                **{
                    "messaging.system": "kafka",
                    "messaging.destination.name": msg.topic(),
                    "messaging.kafka.partition": msg.partition(),
                    "messaging.kafka.offset": msg.offset(),
                },
            ) as span,
        ):
            try:
                job = JobRequest.decode(msg.value())
            except MalformedMessage as exc:
                log.warning("dead-lettering a malformed message: %s", exc)
                span.fail(f"malformed: {exc}")
                self.reporter.malformed(ticket, str(exc))
                self.metrics.jobs_dead_lettered.labels("malformed").inc()
                return MALFORMED
            outcome = self.perform(ticket, job)
            span.set(outcome=outcome, claps=job.claps)
            return outcome

    def perform(self, ticket: Ticket, job: JobRequest) -> str:
        started = time.monotonic()
        log.debug("job %s picked up: %d claps", job.id, job.claps)
        if job.submitted_at:
            self.metrics.queue_wait_seconds.observe(max(0.0, now() - job.submitted_at))
        report = self.reporter.pickup(ticket, job)
        if job.id in self.cancelled:
            return self._cancelled(report, job, done=0)
        report.running()
        for n in range(1, job.claps + 1):
            if job.id in self.cancelled:
                return self._cancelled(report, job, done=n - 1)
            if ticket.stopped:
                log.info("job %s stopped before clap %d; left for redelivery", job.id, n)
                return INTERRUPTED
            try:
                error = self.clap(ticket, job, n)
            except Interrupted:
                log.info("job %s stopped while retrying clap %d; left for redelivery", job.id, n)
                return INTERRUPTED
            if error is not None:
                attempts = self.settings.max_attempts
                reason = f"clap {n} of {job.claps} failed {attempts} times: {error}"
                log.warning("job %s failed: %s", job.id, reason)
                report.failed(reason, done=n - 1, attempts=attempts)
                self.metrics.jobs_failed.inc()
                self.metrics.jobs_dead_lettered.labels("exhausted").inc()
                self.metrics.work_seconds.observe(time.monotonic() - started)
                return FAILED
            report.progress(n)
        report.done(synthesize(job.claps, job.id))
        elapsed = time.monotonic() - started
        self.metrics.jobs_done.inc()
        self.metrics.work_seconds.observe(elapsed)
        log.debug("job %s done: %d claps in %.2f s", job.id, job.claps, elapsed)
        return DONE

    def _cancelled(self, report, job: JobRequest, done: int) -> str:
        log.info("job %s cancelled after %d of %d claps", job.id, done, job.claps)
        report.cancelled(done=done)
        self.metrics.jobs_cancelled.inc()
        return CANCELLED

    def clap(self, ticket: Ticket, job: JobRequest, n: int) -> str | None:
        """Perform clap n, retrying with backoff; None, or the last error if every
        attempt failed. Raises Interrupted if the job must stop while it waits."""
        attempts = self.settings.max_attempts
        for attempt in range(1, attempts + 1):
            with (
                logs.job_context(attempt=attempt),
                tracing.span("clap attempt", clap=n, attempt=attempt) as span,
            ):
                try:
                    self.work(job, n)
                    return None
                except Exception as exc:  # noqa: BLE001 - any failure of a clap is retried, then reported
                    error = f"{type(exc).__name__}: {exc}"
                    span.fail(error)
            if attempt < attempts:
                delay = backoff_seconds(self.settings.retry_backoff_ms, attempt)
                log.info(
                    "job %s clap %d attempt %d/%d failed (%s); retrying in %.2f s",
                    job.id,
                    n,
                    attempt,
                    attempts,
                    error,
                    delay,
                )
                if ticket.lease.ended.wait(delay):
                    raise Interrupted
        return error

    def work(self, job: JobRequest, n: int) -> None:
        """One clap's unit of work."""
        started = time.perf_counter()
        if job.fail_at_clap == n:
            raise ClapError(f"injected failure at clap {n}")
        if self.settings.clap_work_ms:
            time.sleep(self.settings.clap_work_ms / 1000)
        self.metrics.claps.inc()
        self.metrics.clap_seconds.observe(time.perf_counter() - started)
