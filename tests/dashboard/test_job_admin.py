"""Clap jobs in the admin: filters, search, timeline, retry and cancel."""

from datetime import UTC, datetime

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from webapp.claps.models import ClapJob, Status, Transition

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:claps_clapjob_changelist")


def _job(status=Status.QUEUED, note=""):
    job = ClapJob.objects.create(owner="anon:a", claps=3, note=note)
    ClapJob.objects.filter(id=job.id).update(status=status)
    job.refresh_from_db()
    return job


def _listed(response) -> set[str]:
    return {str(job.id) for job in response.context["cl"].result_list}


def test_filter_by_status_and_search_by_id_or_note(admin_client):
    failed = _job(Status.FAILED, note="birthday")
    done = _job(Status.DONE, note="standing ovation")
    assert _listed(admin_client.get(CHANGELIST, {"status__exact": "failed"})) == {str(failed.id)}
    assert _listed(admin_client.get(CHANGELIST, {"q": str(done.id)})) == {str(done.id)}
    assert _listed(admin_client.get(CHANGELIST, {"q": "ovation"})) == {str(done.id)}
    year = done.created_at.year
    assert len(_listed(admin_client.get(CHANGELIST, {"created_at__year": year}))) == 2


def test_a_jobs_page_shows_its_timeline_read_only(admin_client):
    job = _job(Status.DONE)
    for seq, status in enumerate([Status.RUNNING, Status.DONE], start=1):
        Transition.objects.create(
            job=job, status=status, seq=seq, at=datetime.now(UTC), worker="worker-7"
        )
    page = admin_client.get(reverse("admin:claps_clapjob_change", args=[job.id]))
    html = page.content.decode()
    assert "Timeline" in html and html.count("worker-7") == 2
    assert 'name="status"' not in html  # state belongs to the recorder
    assert admin_client.get(reverse("admin:claps_clapjob_add")).status_code == 403


def test_retry_makes_new_jobs_of_the_failed_ones_only(admin_client):
    failed, done = _job(Status.FAILED), _job(Status.DONE)
    response = admin_client.post(
        CHANGELIST,
        {"action": "retry", "_selected_action": [failed.id, done.id]},
        follow=True,
    )
    html = response.content.decode()
    assert "1 job(s) retried" in html and "only failed jobs can be retried" in html
    assert ClapJob.objects.count() == 3
    new = ClapJob.objects.get(status=Status.QUEUED, claps=failed.claps)
    # Who retried what is in the job's history.
    history = admin_client.get(reverse("admin:claps_clapjob_history", args=[failed.id]))
    assert f"Retried as {new.id}." in history.content.decode()
    assert "admin" in history.content.decode()
    assert not LogEntry.objects.filter(object_id=str(done.id)).exists()


@pytest.mark.kafka
def test_cancel_asks_the_workers_for_unfinished_jobs(admin_client, isolated_kafka):
    queued, done = _job(Status.QUEUED), _job(Status.DONE)
    response = admin_client.post(
        CHANGELIST,
        {"action": "cancel", "_selected_action": [queued.id, done.id]},
        follow=True,
    )
    assert "1 job(s) asked to cancel" in response.content.decode()
    queued.refresh_from_db()
    done.refresh_from_db()
    assert queued.cancel_requested_at is not None and done.cancel_requested_at is None
    (entry,) = LogEntry.objects.all()
    assert (entry.object_id, entry.change_message) == (
        str(queued.id),
        "Asked the workers to cancel it.",
    )
    assert entry.user.username == "admin"
