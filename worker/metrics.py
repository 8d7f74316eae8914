"""The worker's Prometheus metrics, in a registry of its own."""

import logging

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

log = logging.getLogger(__name__)

JOB_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120)


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
            ["reason"],  # malformed | exhausted
            registry=r,
        )
        self.claps = Counter("clapstream_worker_claps", "Claps performed.", registry=r)
        self.clap_seconds = Histogram(
            "clapstream_worker_clap_duration_seconds", "Duration of one clap.", registry=r
        )
        self.job_seconds = Histogram(
            "clapstream_worker_job_duration_seconds",
            "From pick-up to outcome, per job.",
            buckets=JOB_BUCKETS,
            registry=r,
        )

    def serve(self, port: int) -> None:
        start_http_server(port, registry=self.registry)
        log.info("metrics on :%d/metrics", port)
