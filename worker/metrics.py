"""The worker's Prometheus metrics, in a registry of its own."""

import logging

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

log = logging.getLogger(__name__)

DEAD_LETTER_REASONS = ("malformed", "exhausted")
JOB_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.jobs_done = Counter("clapstream_worker_jobs_done", "Jobs done.", registry=r)
        self.jobs_failed = Counter(
            "clapstream_worker_jobs_failed", "Jobs failed after their retries.", registry=r
        )
        self.jobs_cancelled = Counter(
            "clapstream_worker_jobs_cancelled", "Jobs stopped by a cancel request.", registry=r
        )
        self.jobs_dead_lettered = Counter(
            "clapstream_worker_jobs_dead_lettered",
            "Messages written to the dead-letter topic.",
            ["reason"],
            registry=r,
        )
        for reason in DEAD_LETTER_REASONS:  # from 0, so that the first one shows in rate()
            self.jobs_dead_lettered.labels(reason)
        self.claps = Counter("clapstream_worker_claps", "Claps performed.", registry=r)
        self.clap_seconds = Histogram(
            "clapstream_worker_clap_duration_seconds", "Duration of one clap.", registry=r
        )
        # A job's latency in its two parts: waiting in Kafka, then being worked on.
        self.queue_wait_seconds = Histogram(
            "clapstream_worker_job_queue_wait_seconds",
            "From the job's acceptance by the site to its pick-up by a worker, per pick-up.",
            buckets=JOB_BUCKETS,
            registry=r,
        )
        self.work_seconds = Histogram(
            "clapstream_worker_job_work_seconds",
            "From pick-up to outcome (done or failed), per job.",
            buckets=JOB_BUCKETS,
            registry=r,
        )

    def serve(self, port: int) -> None:
        start_http_server(port, registry=self.registry)
        log.info("metrics on :%d/metrics", port)
