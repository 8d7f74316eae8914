"""The Celery side of the comparison: the same jobs as Celery tasks on Redis.

Only the benchmark imports this (workers run `celery -A tools.bench.celery_app`),
with BENCH_REDIS_URL pointing at its throw-away redis-server.
"""

import base64
import os
from datetime import UTC, datetime

import django
from celery import Celery
from django.apps import apps

from streams.envvars import env_str
from worker.applause import synthesize

if not apps.ready:  # a Celery worker process; the site has set Django up already
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tools.bench.settings")
    django.setup()

from webapp.claps.models import Applause, ClapJob, Status  # after setup

DONE_COUNTER = "bench:done"
app = Celery("clapstream_bench")
app.conf.update(broker_connection_retry_on_startup=True, worker_hijack_root_logger=False)


def use_redis(url: str) -> None:
    """Broker and result backend; before the first task is sent or run."""
    app.conf.update(broker_url=url, result_backend=url)


use_redis(env_str("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))


@app.task(name="bench.applause")
def applause(job_id: str) -> str:
    """The pipeline benchmark's job: one clap synthesised, the WAV returned (stored in
    the result backend, as Clapstream's done event carries it), counted done."""
    wav = synthesize(1, job_id)
    app.backend.client.incr(DONE_COUNTER)
    return base64.b64encode(wav).decode()


@app.task(name="bench.perform")
def perform(job_id: str) -> None:
    """A submitted job done the Celery way: the task itself writes the job's outcome,
    as Clapstream's recorder does from the done event."""
    job = ClapJob.objects.get(id=job_id)
    wav = synthesize(job.claps, job_id)
    now = datetime.now(UTC)
    ClapJob.objects.filter(id=job_id).update(
        status=Status.DONE, done=job.claps, started_at=now, finished_at=now
    )
    Applause.of(job.pk, wav).save(force_insert=True)
