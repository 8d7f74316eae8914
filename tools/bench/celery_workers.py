"""Celery worker processes on the benchmark's redis-server, and their throughput on
the pipeline benchmark's job."""

import io
import sys
import time
import uuid

import redis

from tools.bench.celery_app import DONE_COUNTER, applause, use_redis
from tools.bench.pipeline import BENCH_SETTINGS, wait_until
from tools.processes import ProcessGroup


class CeleryWorkers:
    """N workers, one process each running one task at a time (--pool=solo), the
    counterpart of N Clapstream workers."""

    def __init__(self, redis_url: str, workers: int, env: dict[str, str] | None = None):
        use_redis(redis_url)
        self.workers = workers
        self.env = {**BENCH_SETTINGS, **(env or {}), "BENCH_REDIS_URL": redis_url}
        self.group = ProcessGroup(io.StringIO())
        self.redis = redis.Redis.from_url(redis_url)

    def __enter__(self):
        for n in range(1, self.workers + 1):
            self.group.start(
                f"celery-{n}",
                [
                    *[sys.executable, "-m", "celery", "-A", "tools.bench.celery_app"],
                    *["worker", "--pool=solo", "--concurrency=1", f"--hostname=bench-{n}@%h"],
                    *["--without-gossip", "--without-mingle", "--without-heartbeat"],
                    "--loglevel=WARNING",
                ],
                self.env,
            )
        self.warm_up()
        return self

    def __exit__(self, *exc):
        self.group.stop_all(timeout=30)
        self.redis.close()

    def _done_after(self, jobs: int) -> None:
        wait_until(lambda: int(self.redis.get(DONE_COUNTER) or 0) >= jobs, 600, f"{jobs} tasks")

    def warm_up(self, jobs: int = 24) -> None:
        """Until every worker takes tasks, nothing is measured."""
        self.redis.set(DONE_COUNTER, 0)
        for _ in range(jobs):
            applause.delay(str(uuid.uuid4()))
        self._done_after(jobs)

    def throughput(self, jobs: int) -> float:
        """Tasks per second from the first send to the last one done."""
        ids = [str(uuid.uuid4()) for _ in range(jobs)]
        self.redis.set(DONE_COUNTER, 0)
        began = time.perf_counter()
        for job_id in ids:
            applause.delay(job_id)
        self._done_after(jobs)
        return jobs / (time.perf_counter() - began)
