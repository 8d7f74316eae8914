"""What the load generator watches besides its own requests: job outcomes in the
site's database, and the worker group's lag and size in Kafka."""

import logging
import threading
import time

from asgiref.sync import sync_to_async
from confluent_kafka import KafkaException

from streams.config import KafkaConfig
from streams.keda import EARLIEST, partition_lag
from streams.lag import OffsetReader
from tools.loadgen.summary import Request
from webapp.dashboard.groups import describe_groups

log = logging.getLogger(__name__)
CHUNK = 500  # ids per query, under SQLite's bound on query parameters


@sync_to_async
def read_outcomes(pending: list[Request]) -> None:
    """Mark the requests whose jobs the database shows final; the done time is the
    job's finished_at (the instant its worker reported it). Needs the site's database,
    hence Django set up (tools.djangoenv) before the first call, not at import."""
    from webapp.claps.models import FINAL_STATUSES, ClapJob

    by_id = {r.job_id: r for r in pending}
    ids = list(by_id)
    for i in range(0, len(ids), CHUNK):
        rows = ClapJob.objects.filter(id__in=ids[i : i + CHUNK], status__in=FINAL_STATUSES)
        for pk, status, finished_at in rows.values_list("id", "status", "finished_at"):
            request = by_id[str(pk)]
            request.outcome, request.done_at = status, finished_at.timestamp()


class GroupSampler:
    """Every `interval` seconds, in a thread: the worker group's total lag on the jobs
    topic (as KEDA counts it) and its member count."""

    def __init__(self, kafka: KafkaConfig, interval: float = 1.0, timeout: float = 2.0):
        self.kafka = kafka
        self.interval = interval
        self.timeout = timeout
        self.samples: list[dict] = []  # {"at": wall-clock seconds, "lag": n, "workers": n}
        self._reader = OffsetReader(kafka, timeout=timeout)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="group-sampler", daemon=True)

    def sample(self) -> dict:
        group, topic = self.kafka.worker_group, self.kafka.topics.jobs
        at = time.time()
        try:
            lag = sum(partition_lag(p, EARLIEST) for p in self._reader.offsets(group, topic))
            info = describe_groups(self.kafka, [group], self.timeout)[group]
        except (KafkaException, LookupError) as exc:
            log.warning("no lag sample: %s", exc)
            return {"at": at, "lag": None, "workers": None}
        return {"at": at, "lag": lag, "workers": len(info.members)}

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self.sample())
            self._stop.wait(self.interval)

    def __enter__(self) -> "GroupSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._reader.close()
