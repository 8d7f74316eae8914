"""The recorder's Prometheus metrics, in a registry of its own (served on
RECORDER_METRICS_PORT)."""

from prometheus_client import CollectorRegistry, Counter, Histogram

DELAY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)


class RecorderMetrics:
    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.events = Counter(
            "clapstream_recorder_events",
            "Job events written to the database (stale and duplicate ones included).",
            ["type"],
            registry=r,
        )
        self.malformed = Counter(
            "clapstream_recorder_malformed_events", "Events skipped as malformed.", registry=r
        )
        self.delay = Histogram(
            "clapstream_recorder_event_delay_seconds",
            "From an event's time at its worker to its write in the database: how far "
            "behind the recorder is.",
            buckets=DELAY_BUCKETS,
            registry=r,
        )
        self.database_failures = Counter(
            "clapstream_recorder_database_failures",
            "Batches the database refused (they are read again).",
            registry=r,
        )
        self.republished = Counter(
            "clapstream_recorder_outbox_republished_jobs",
            "Jobs the outbox sweeper published again.",
            registry=r,
        )
