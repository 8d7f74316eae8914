"""Retention: `prune_jobs` removes finished jobs older than JOB_RETENTION_DAYS with their
timelines and applause, in batches, never a queued or running job; handled dead
letters have their own retention."""

import io
import re
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.retention.rows import expected_left, seed
from webapp.claps.models import Applause, ClapJob, Transition
from webapp.dashboard.models import DeadLetterAction

pytestmark = pytest.mark.django_db


def prune(**options) -> str:
    out = io.StringIO()
    call_command("prune_jobs", stdout=out, **options)
    return out.getvalue()


def test_old_finished_jobs_go_with_their_history_and_the_rest_stays():
    made = seed(per_state=3)
    jobs_left, letters_left = expected_left(made)
    with CaptureQueriesContext(connection) as queries:
        said = prune(batch=4)
    assert set(ClapJob.objects.values_list("id", flat=True)) == jobs_left
    assert set(Transition.objects.values_list("job_id", flat=True)) == jobs_left
    assert set(Applause.objects.values_list("job_id", flat=True)) <= jobs_left
    assert Applause.objects.count() == 3  # the recent done jobs'
    assert set(DeadLetterAction.objects.values_list("id", flat=True)) == letters_left
    assert re.search(
        r"removed 9 finished job\(s\) .* with 9 timeline event\(s\) and 3 applause", said
    ), said
    assert "5 dead-letter record(s)" in said, said
    # Nine jobs in batches of at most four: three deletes of jobs, each in its own transaction.
    deletes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('DELETE FROM "claps_clapjob"')
    ]
    assert len(deletes) == 3


def test_retention_periods_come_from_the_settings(settings):
    made = seed(per_state=1)
    settings.JOB_RETENTION_DAYS = 60
    settings.DEAD_LETTER_RETENTION_DAYS = 10
    said = prune()
    assert ClapJob.objects.count() == sum(
        len(ids) for (s, _), ids in made.items() if s != "dead letters"
    )
    assert set(DeadLetterAction.objects.values_list("id", flat=True)) == set()
    assert "removed 0 finished job(s)" in said and "10 dead-letter record(s)" in said


def test_nothing_to_prune_says_so():
    assert prune().startswith("removed 0 finished job(s)")


def test_the_dead_letter_topic_keeps_letters_as_long(monkeypatch):
    from streams.config import from_env
    from streams.topics import topic_specs

    monkeypatch.setenv("DEAD_LETTER_RETENTION_DAYS", "7")
    config = from_env()
    (dlq,) = [spec for spec in topic_specs(config) if spec.name == config.topics.dlq]
    assert dlq.config["retention.ms"] == str(7 * 24 * 3600 * 1000)


def test_expired_sessions_go_and_live_ones_stay():
    now = timezone.now()
    for key, expires in (("gone", now - timedelta(seconds=1)), ("kept", now + timedelta(days=1))):
        Session.objects.create(session_key=key, session_data="", expire_date=expires)
    said = prune()
    assert list(Session.objects.values_list("session_key", flat=True)) == ["kept"]
    assert "1 expired session(s)" in said
