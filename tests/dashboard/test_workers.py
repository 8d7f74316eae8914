"""Per-worker throughput and current job on the Streams dashboard, from the job rows."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from webapp.claps.models import ClapJob, Status
from webapp.dashboard.workers import worker_activity

pytestmark = pytest.mark.django_db


def _job(now, worker, status, *, finished=None, started=None, claps=4, done=0):
    job = ClapJob.objects.create(owner="anon:w", claps=claps)
    ClapJob.objects.filter(id=job.id).update(
        worker=worker,
        status=status,
        done=done,
        started_at=None if started is None else now - started,
        finished_at=None if finished is None else now - finished,
    )
    return job


def _setup(now):
    for seconds in (5, 20, 50):  # three in the last minute
        _job(now, "w-1", Status.DONE, finished=timedelta(seconds=seconds))
    for minutes in (10, 59):  # two more in the hour
        _job(now, "w-1", Status.FAILED, finished=timedelta(minutes=minutes))
    _job(now, "w-1", Status.DONE, finished=timedelta(minutes=61))  # too old
    _job(now, "w-2", Status.DONE, finished=timedelta(minutes=30))
    _job(now, "w-2", Status.CANCELLED, finished=timedelta(seconds=3))  # not work done
    _job(now, "w-2", Status.RUNNING, started=timedelta(seconds=40))
    return _job(now, "w-2", Status.RUNNING, started=timedelta(seconds=8), claps=9, done=2)


def test_jobs_per_minute_over_the_last_minute_and_hour_and_the_current_job():
    now = timezone.now()
    current = _setup(now)
    rows = {a.worker: a for a in worker_activity(now, members=("w-3",))}
    assert list(rows) == ["w-1", "w-2", "w-3"]
    assert rows["w-1"].per_min_last_minute == 3
    assert rows["w-1"].per_min_last_hour == pytest.approx(5 / 60)
    assert rows["w-1"].current is None
    assert rows["w-2"].per_min_last_minute == 0
    assert rows["w-2"].per_min_last_hour == pytest.approx(1 / 60)
    assert rows["w-2"].current.id == str(current.id)
    assert (rows["w-2"].current.done, rows["w-2"].current.claps) == (2, 9)
    assert rows["w-3"].per_min_last_hour == 0 and rows["w-3"].current is None  # idle member


def test_the_dashboard_lists_each_worker(admin_client):
    current = _setup(timezone.now())
    page = admin_client.get(reverse("dashboard:live")).content.decode()
    assert "<td>w-1</td>" in page and "<td>w-2</td>" in page
    assert reverse("admin:claps_clapjob_change", args=[current.id]) in page
    assert re.search(r"2/9 claps, for (8|9|10) s", page)
    data = admin_client.get(reverse("dashboard:data")).json()
    workers = {w["worker"]: w for w in data["workers"]}
    assert workers["w-1"]["per_min_last_minute"] == 3
    assert workers["w-2"]["current"]["id"] == str(current.id)
