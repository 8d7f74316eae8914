"""Retention: finished jobs (with their timelines and applause) older than
JOB_RETENTION_DAYS, records of handled dead letters older than DEAD_LETTER_RETENTION_DAYS
and 8 days (as long as the letters may stay in Kafka), and expired sessions. Queued and
running jobs are never removed. Run daily (the prune CronJob)."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone

from webapp.accounts.retention import prune_sessions
from webapp.claps.retention import BATCH, prune_jobs
from webapp.dashboard.retention import prune_dead_letter_actions

# Kafka deletes a letter only with its whole log segment, once the segment's newest
# letter is past the retention, and a quiet topic's segment rolls every 7 days (the
# broker's default): a letter may be listed that much longer. Its record must outlive
# it, or a handled letter could be handled again.
LETTERS_OUTLIVE_RETENTION_DAYS = 8


class Command(BaseCommand):
    help = (
        "Remove finished jobs and handled dead letters older than their retention, "
        "and expired sessions."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=BATCH, help="rows per transaction")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, batch, database, **options):
        now = timezone.now()
        jobs_cutoff = now - timedelta(days=settings.JOB_RETENTION_DAYS)
        letters_cutoff = now - timedelta(
            days=settings.DEAD_LETTER_RETENTION_DAYS + LETTERS_OUTLIVE_RETENTION_DAYS
        )
        removed = prune_jobs(jobs_cutoff, batch=batch, using=database)
        removed += prune_dead_letter_actions(letters_cutoff, batch=batch, using=database)
        removed += prune_sessions(now, batch=batch, using=database)
        self.stdout.write(
            f"removed {removed['jobs']} finished job(s) older than {jobs_cutoff:%Y-%m-%d %H:%M} "
            f"UTC with {removed['transitions']} timeline event(s) and "
            f"{removed['applause']} applause clip(s); "
            f"{removed['dead_letter_actions']} dead-letter record(s) older than "
            f"{letters_cutoff:%Y-%m-%d %H:%M} UTC; {removed['sessions']} expired session(s)"
        )
