"""`prune_jobs` on PostgreSQL (the production database): a throw-away cluster, the
real migrations, rows of every state, and a writer on the same tables that goes on
writing while the prune runs (each batch is its own short transaction)."""

import io
import threading

import dj_database_url
import pytest
from django.core.management import call_command
from django.db import connections

from tests.retention.rows import expected_left, seed
from tests.support.postgres import needs_postgres
from tools.postgres import temp_postgres
from webapp.claps.models import ClapJob, Transition
from webapp.dashboard.models import DeadLetterAction

pytestmark = [needs_postgres, pytest.mark.timeout(300)]
ALIAS = "retention_pg"


@pytest.fixture
def postgres(django_db_blocker):
    """The cluster as a database alias of this process, migrated."""
    with temp_postgres("clapstream-test-pg-") as server:
        configured = connections.configure_settings(
            {"default": connections.settings["default"], ALIAS: dj_database_url.parse(server.url())}
        )
        connections.settings[ALIAS] = configured[ALIAS]
        try:
            with django_db_blocker.unblock():
                call_command("migrate", database=ALIAS, verbosity=0)
                yield ALIAS
                connections[ALIAS].close()
        finally:
            connections.settings.pop(ALIAS, None)


def test_pruning_on_postgres(postgres, django_db_blocker):
    made = seed(using=postgres, per_state=40)
    jobs_left, letters_left = expected_left(made)
    writes = []
    stop = threading.Event()

    def writer():
        """The recorder's kind of write, on a job that stays, while the prune runs."""
        keep = next(iter(jobs_left))
        with django_db_blocker.unblock():
            try:
                seq = 2
                while not stop.is_set():
                    Transition.objects.using(postgres).create(
                        job_id=keep, status="running", seq=seq, at="2026-01-01T00:00:00Z"
                    )
                    writes.append(seq)
                    seq += 1
            finally:
                connections[postgres].close()

    thread = threading.Thread(target=writer)
    thread.start()
    out = io.StringIO()
    try:
        call_command("prune_jobs", database=postgres, batch=25, stdout=out)
    finally:
        stop.set()
        thread.join()

    assert set(ClapJob.objects.using(postgres).values_list("id", flat=True)) == jobs_left
    assert (
        set(DeadLetterAction.objects.using(postgres).values_list("id", flat=True)) == letters_left
    )
    old_finished = 3 * 40  # done, failed and cancelled
    assert f"removed {old_finished} finished job(s)" in out.getvalue(), out.getvalue()
    assert not Transition.objects.using(postgres).exclude(job_id__in=jobs_left).exists()
    assert len(writes) > 1, "the writer wrote while the prune ran"
