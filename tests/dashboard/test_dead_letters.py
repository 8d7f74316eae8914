"""Dead letters: listed with their reason, requeued to the jobs topic or discarded, once."""

import uuid

import pytest
from confluent_kafka import Producer
from django.contrib.admin.models import LogEntry
from django.db import OperationalError
from django.urls import reverse

from streams import messages
from tests.support.kafka import jobs_topic
from webapp.claps.models import ClapJob, Status
from webapp.claps.publisher import publisher
from webapp.dashboard import services
from webapp.dashboard.models import DeadLetterAction

pytestmark = [pytest.mark.kafka, pytest.mark.django_db]


def _letters(config, *reasons: str) -> list[tuple[str, bytes]]:
    """One dead letter per reason, as the worker writes them; returns (key, value)s."""
    producer = Producer(config.producer())
    letters = []
    for reason in reasons:
        job = messages.JobRequest(id=str(uuid.uuid4()), claps=2)
        headers = {
            messages.DLQ_ERROR: reason,
            messages.DLQ_ATTEMPTS: "3",
            messages.DLQ_TOPIC: config.topics.jobs,
            messages.DLQ_PARTITION: "1",
            messages.DLQ_OFFSET: "42",
            messages.DLQ_FAILED_AT: "2030-01-01T00:00:00Z",
        }
        producer.produce(
            config.topics.dlq, key=job.id, value=job.encode(), headers=list(headers.items())
        )
        letters.append((job.id, job.encode()))
    assert producer.flush(10) == 0
    return letters


FIRST_REQUEUED = {"partition": 0, "offset": 0, "action": "requeue"}


def _letter_of(config, job: ClapJob | None, value: bytes | None = b"") -> None:
    """A dead letter as the worker writes one: of the job, or with only headers."""
    producer = Producer(config.producer())
    producer.produce(
        config.topics.dlq,
        key=str(job.id) if job else None,
        value=job.to_message().encode() if job else value,
        headers=[(messages.DLQ_ERROR, "retries exhausted")],
    )
    assert producer.flush(10) == 0


def test_requeue_and_discard_each_letter_once(admin_client, admin_user, isolated_kafka):
    config = isolated_kafka
    (poison_id, poison_value), (tired_id, _) = _letters(
        config, "claps must be 1 to 100, got 0", "retries exhausted: clap 2 raised"
    )
    url = reverse("dashboard:dead_letters")

    page = admin_client.get(url).content.decode()
    assert "claps must be 1 to 100, got 0" in page and "retries exhausted" in page
    assert f"{config.topics.jobs}[1]@42" in page

    response = admin_client.post(url, {"partition": 0, "offset": 0, "action": "requeue"})
    assert response.status_code == 302
    assert [(r.key, r.value) for r in jobs_topic(config)] == [(poison_id, poison_value)]
    handled = DeadLetterAction.objects.get(partition=0, offset=0)
    assert (handled.action, handled.by, handled.key) == ("requeue", admin_user, poison_id)

    again = admin_client.post(url, {"partition": 0, "offset": 0, "action": "requeue"}, follow=True)
    assert "handled already" in again.content.decode()

    admin_client.post(url, {"partition": 0, "offset": 1, "action": "discard"})
    assert DeadLetterAction.objects.get(offset=1).key == tired_id
    assert len(jobs_topic(config)) == 1  # requeued once, the discarded one not at all

    page = admin_client.get(url).content.decode()
    assert page.count("by admin") == 2
    assert 'value="requeue"' not in page  # nothing left to handle

    # The admin's log says who did what, and shows it.
    logged = LogEntry.objects.order_by("action_time")
    assert [(e.user, e.change_message) for e in logged] == [
        (admin_user, f"Requeued the letter of job {poison_id}."),
        (admin_user, f"Discarded the letter of job {tired_id}."),
    ]
    history = admin_client.get(reverse("admin:admin_logentry_changelist")).content.decode()
    assert f"Discarded the letter of job {tired_id}." in history


def test_a_letter_that_is_not_there_is_refused(admin_client, isolated_kafka):
    _letters(isolated_kafka, "poison")
    url = reverse("dashboard:dead_letters")
    response = admin_client.post(
        url, {"partition": 0, "offset": 7, "action": "discard"}, follow=True
    )
    assert "no dead letter at" in response.content.decode().lower()
    assert not DeadLetterAction.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_requeuing_a_failed_job_retries_it_as_a_new_job(admin_client, isolated_kafka):
    failed = ClapJob.objects.create(owner="anon:o", claps=3, note="again", status=Status.FAILED)
    _letter_of(isolated_kafka, failed)
    url = reverse("dashboard:dead_letters")
    admin_client.post(url, {"partition": 0, "offset": 0, "action": "requeue"})

    handled = DeadLetterAction.objects.get(offset=0)
    retry = ClapJob.objects.get(id=handled.resubmitted_as)
    assert (retry.owner, retry.claps, retry.note) == ("anon:o", 3, "again")
    assert retry.id != failed.id
    assert publisher().flush(10) == 0
    published = {r.key: r.value for r in jobs_topic(isolated_kafka)}
    assert list(published) == [str(retry.id)]
    assert f"as job <code>{retry.id}</code>" in admin_client.get(url).content.decode()
    (entry,) = LogEntry.objects.all()
    assert entry.change_message == f"Requeued the letter of job {failed.id} as job {retry.id}."


def test_a_staff_account_without_the_permission_may_look_but_not_act(
    client, django_user_model, isolated_kafka
):
    ((key, _),) = _letters(isolated_kafka, "claps must be 1 to 100, got 0")
    viewer = django_user_model.objects.create_user("viewer", password="unused", is_staff=True)
    client.force_login(viewer)
    url = reverse("dashboard:dead_letters")
    page = client.get(url).content.decode()
    assert key in page and "Not handled yet" in page
    assert 'value="requeue"' not in page
    answer = client.post(url, {"partition": "0", "offset": "0", "action": "requeue"})
    assert answer.status_code == 403
    assert not DeadLetterAction.objects.exists()
    assert not ClapJob.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_job_not_recorded_as_failed_yet_is_refused_until_it_is(admin_client, isolated_kafka):
    """The worker writes the failure and the letter together; the recorder may be behind.
    Replayed then, the job would be performed again and its events ignored."""
    job = ClapJob.objects.create(owner="anon:o", claps=2, status=Status.RUNNING)
    _letter_of(isolated_kafka, job)
    url = reverse("dashboard:dead_letters")
    refused = admin_client.post(url, FIRST_REQUEUED, follow=True)
    assert "is running, not failed" in refused.content.decode()
    assert "try again in a moment" in refused.content.decode()
    assert not DeadLetterAction.objects.exists()
    assert jobs_topic(isolated_kafka) == []

    ClapJob.objects.filter(id=job.id).update(status=Status.FAILED)
    admin_client.post(url, FIRST_REQUEUED)
    assert DeadLetterAction.objects.get(offset=0).resubmitted_as is not None


def test_the_letter_of_a_job_since_removed_is_not_requeued(admin_client, isolated_kafka):
    gone = ClapJob.objects.create(owner="anon:o", claps=2, status=Status.FAILED)
    _letter_of(isolated_kafka, gone)
    ClapJob.objects.filter(id=gone.id).delete()  # pruned: letters outlive their jobs
    refused = admin_client.post(reverse("dashboard:dead_letters"), FIRST_REQUEUED, follow=True)
    assert f"{gone.id} was removed" in refused.content.decode()
    assert not DeadLetterAction.objects.exists()
    assert jobs_topic(isolated_kafka) == []


def test_a_letter_without_its_message_is_not_requeued(admin_client, isolated_kafka):
    _letter_of(isolated_kafka, None, value=None)  # headers alone: too large to copy
    url = reverse("dashboard:dead_letters")
    refused = admin_client.post(url, FIRST_REQUEUED, follow=True)
    assert "holds no message to requeue" in refused.content.decode()
    assert not DeadLetterAction.objects.exists()
    assert jobs_topic(isolated_kafka) == []


@pytest.mark.django_db(transaction=True)
def test_a_requeue_that_fails_claims_nothing(admin_client, isolated_kafka, monkeypatch):
    job = ClapJob.objects.create(owner="anon:o", claps=2, status=Status.FAILED)
    _letter_of(isolated_kafka, job)

    def database_away(**_):
        raise OperationalError("the database went away")

    monkeypatch.setattr(services, "clap_retry", database_away)
    url = reverse("dashboard:dead_letters")
    failed = admin_client.post(url, FIRST_REQUEUED, follow=True)
    assert "The database did not answer" in failed.content.decode()
    assert not DeadLetterAction.objects.exists()

    monkeypatch.undo()
    admin_client.post(url, FIRST_REQUEUED)
    assert DeadLetterAction.objects.get(offset=0).resubmitted_as is not None
