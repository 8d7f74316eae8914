"""The benchmark's database: a throw-away one unless DATABASE_URL names one, and never
one that holds jobs the benchmark did not create."""

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from tools.postgres import TempPostgres, server_bindir

KINDS = ("auto", "postgres", "sqlite")


class ForeignJobs(RuntimeError):
    pass


@contextmanager
def bench_database(kind: str = "auto"):
    """Before Django is set up: unless DATABASE_URL is set, point this process and its
    children at a fresh PostgreSQL cluster ("postgres"; "auto" when its binaries are
    installed) or SQLite file, and remove it afterwards."""
    if os.environ.get("DATABASE_URL"):
        yield
        return
    if kind == "auto":
        kind = "postgres" if server_bindir() else "sqlite"
    scratch = Path(tempfile.mkdtemp(prefix="clapstream-bench-"))
    cluster = TempPostgres(scratch) if kind == "postgres" else None
    try:
        if cluster is not None:
            cluster.start()
        os.environ["DATABASE_URL"] = (
            cluster.url() if cluster else f"sqlite:///{scratch / 'bench.sqlite3'}"
        )
        yield
    finally:
        if cluster is not None:
            from django.conf import settings
            from django.db import connections

            if settings.configured:  # the benchmark's own connections first
                connections.close_all()
            cluster.stop()
        shutil.rmtree(scratch, ignore_errors=True)


def prepare() -> str:
    """Migrate; refuse a database with jobs in it. Returns the engine's name."""
    from django.conf import settings
    from django.core.management import call_command

    from webapp.claps.models import ClapJob

    call_command("migrate", verbosity=0)
    count = ClapJob.objects.count()
    if count:
        raise ForeignJobs(
            f"the database ({settings.DATABASES['default']['NAME']}) holds {count:,} jobs "
            "this benchmark did not create; it deletes what it creates and nothing else, "
            "so run it on an empty database (unset DATABASE_URL for a throw-away one)"
        )
    return "PostgreSQL" if "postgresql" in settings.DATABASES["default"]["ENGINE"] else "SQLite"


@contextmanager
def deleting_own_jobs():
    """Delete the jobs made while inside, however it ends: prepare() found no others,
    so those are the benchmark's own."""
    from django.utils import timezone

    from webapp.claps.models import ClapJob

    began = timezone.now()
    try:
        yield
    finally:
        ClapJob.objects.filter(created_at__gte=began).delete()


def _maintain(command: str) -> None:
    from django.db import connection

    from webapp.claps.models import Applause, ClapJob, Transition

    if connection.vendor != "postgresql":
        return
    tables = ", ".join(
        connection.ops.quote_name(model._meta.db_table) for model in (ClapJob, Transition, Applause)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"{command} {tables}")


def reclaim() -> None:
    """After a run's rows are deleted: vacuum their tables now (PostgreSQL), so that
    autovacuum reclaiming them does not land inside the next measured run and bill it
    for the last one's cleanup. pgbench vacuums before each of its runs too."""
    _maintain("VACUUM")


def analyze() -> None:
    """Once a run's jobs are in their table, before its clock starts: statistics that
    describe the table as it is, as a deployment in its steady state has them.

    Without it a run is planned from whatever autovacuum last saw: the empty table left
    by the run before. The foreign-key checks of the recorders' inserts are planned once
    per connection and kept, and planned for an empty table they scan the whole table:
    the 2-worker pipeline run of 99fe6c4 billed PostgreSQL 1.44 ms a job, against 0.25
    to 0.34 in the runs without since 843f878 (docs/benchmarks.md)."""
    _maintain("ANALYZE")
