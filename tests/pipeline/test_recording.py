"""The recorder's rules: in seq order, idempotent, final states are sticky."""

import dataclasses
import uuid

import pytest
from rest_framework.test import APIClient

from streams import messages
from webapp.claps.job_state import record
from webapp.claps.models import Applause, ClapJob, Status, Transition
from worker.applause import synthesize

pytestmark = pytest.mark.django_db

PICKUP = 1_700_000_000_000


def _job(claps=3):
    return ClapJob.objects.create(owner="anon:t", claps=claps)


def _ev(job, kind, n, *, pickup=PICKUP, **fields):
    return messages.JobEvent(
        job=str(job.id), type=kind, seq=messages.seq_of(pickup, n), at=pickup / 1000 + n, **fields
    )


def _run(job, pickup=PICKUP, worker="w1"):
    return [
        _ev(
            job,
            messages.RUNNING,
            0,
            pickup=pickup,
            worker=worker,
            partition=2,
            offset=7,
            done=0,
            total=job.claps,
        ),
        *[
            _ev(job, messages.PROGRESS, i, pickup=pickup, done=i, total=job.claps)
            for i in range(1, job.claps + 1)
        ],
        _ev(
            job,
            messages.DONE,
            job.claps + 1,
            pickup=pickup,
            done=job.claps,
            total=job.claps,
            result_deflated=messages.deflate(b"RIFF-wav"),
        ),
    ]


def test_a_full_run_ends_done_with_its_applause():
    job = _job()
    record(_run(job))
    job.refresh_from_db()
    assert (job.status, job.done, job.attempts, job.worker) == (Status.DONE, 3, 1, "w1")
    assert (job.partition, job.offset) == (2, 7)
    assert Applause.objects.get(job=job).audio() == b"RIFF-wav"
    assert list(job.transitions.values_list("status", flat=True)) == ["running", "done"]


@pytest.mark.usefixtures("fake_publisher")
def test_the_applause_is_stored_deflated_and_served_whole():
    client = APIClient()
    job = _submitted(client)
    wav = synthesize(1, str(job.id))
    events = _run(job)
    events[-1] = dataclasses.replace(events[-1], result_deflated=messages.deflate(wav))
    record(events)
    stored = Applause.objects.get(job=job)
    assert stored.deflated and len(stored.wav) < len(wav) / 4  # mostly silence
    served = client.get(f"/api/claps/{job.id}/applause.wav/")
    assert (served.status_code, served["Content-Type"]) == (200, "audio/wav")
    assert served.content == wav


@pytest.mark.usefixtures("fake_publisher")
def test_applause_stored_whole_before_deflating_is_served_as_it_is():
    client = APIClient()
    job = _submitted(client)
    record(_run(job)[:-1])
    wav = synthesize(1, str(job.id))
    Applause.objects.create(job=job, wav=wav, deflated=False)
    ClapJob.objects.filter(id=job.id).update(status=Status.DONE)
    assert client.get(f"/api/claps/{job.id}/applause.wav/").content == wav


def _submitted(client) -> ClapJob:
    response = client.post("/api/claps/", {"claps": 1}, format="json")
    assert response.status_code == 202
    return ClapJob.objects.get(id=response.json()["id"])


def test_events_out_of_order_and_duplicated_apply_once():
    job = _job()
    events = _run(job)
    record(list(reversed(events)) + events)
    record(events)
    job.refresh_from_db()
    assert job.status == Status.DONE
    assert Transition.objects.filter(job=job, status=Status.DONE).count() == 1


def test_a_redelivery_counts_an_attempt_and_ignores_the_zombie():
    job = _job(claps=2)
    first, second = _run(job, PICKUP, "w1"), _run(job, PICKUP + 5000, "w2")
    record(first[:2])  # w1 started, then "died"
    record(second[:2])
    record(first[2:])  # the zombie's late events are older than w2's: ignored
    job.refresh_from_db()
    assert (job.status, job.worker, job.attempts) == (Status.RUNNING, "w2", 2)
    record(second[2:])
    job.refresh_from_db()
    assert (job.status, job.worker) == (Status.DONE, "w2")


def test_a_pick_up_whose_running_event_was_lost_still_counts():
    job = _job(claps=3)
    first, second = _run(job, PICKUP, "w1"), _run(job, PICKUP + 5000, "w2")
    record(first[:2])
    progress = [dataclasses.replace(e, worker="w2") for e in second[1:3]]  # no running
    record(progress)
    job.refresh_from_db()
    assert (job.status, job.worker, job.attempts, job.done) == (Status.RUNNING, "w2", 2, 2)


def test_a_running_event_cannot_count_more_claps_than_the_job_has():
    job = _job(claps=3)
    record([dataclasses.replace(_run(job)[0], done=7)])
    job.refresh_from_db()
    assert job.done == 3


def test_cancelled_is_final():
    job = _job()
    run = _run(job)
    record(run[:2])
    cancel = messages.JobEvent(
        job=str(job.id),
        type=messages.CANCELLED,
        seq=messages.seq_of(PICKUP + 1, 999),
        at=PICKUP / 1000 + 1,
        error="cancelled by its owner",
    )
    record([cancel])
    record(run[2:])
    job.refresh_from_db()
    assert (job.status, job.error) == (Status.CANCELLED, "cancelled by its owner")
    assert not Applause.objects.filter(job=job).exists()


def test_events_of_unknown_jobs_are_ignored():
    ghost = ClapJob(id=uuid.uuid4(), claps=1)
    assert record(_run(ghost)) == 0
