"""Removing old rows in small batches: each batch is one short transaction, so no
table is locked for long and the recorder's writes go on in between."""

from collections import Counter
from collections.abc import Callable
from datetime import datetime

from django.db import transaction
from django.db.models import Q, QuerySet

from webapp.claps.models import FINAL_STATUSES, Applause, ClapJob, Transition

BATCH = 500


def delete_in_batches(
    queryset: QuerySet, delete: Callable[[list], Counter], batch: int = BATCH
) -> Counter:
    """Call delete(primary keys) for each batch of the queryset's rows, each in its own
    transaction, until none is left; returns the summed counts."""
    using = queryset.db
    removed: Counter = Counter()
    while True:
        keys = list(queryset.order_by().values_list("pk", flat=True)[:batch])
        if not keys:
            return removed
        with transaction.atomic(using=using):
            removed += delete(keys)
        if len(keys) < batch:
            return removed


def _delete_jobs(using: str) -> Callable[[list], Counter]:
    def delete(ids: list) -> Counter:
        # Children first: the jobs' own delete then finds nothing left to cascade to.
        return Counter(
            applause=Applause.objects.using(using).filter(job_id__in=ids).delete()[0],
            transitions=Transition.objects.using(using).filter(job_id__in=ids).delete()[0],
            jobs=ClapJob.objects.using(using).filter(id__in=ids).delete()[0],
        )

    return delete


def expired_jobs(cutoff: datetime, using: str = "default") -> QuerySet[ClapJob]:
    """Finished jobs that finished before the cutoff; queued and running ones never."""
    finished_before = Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, created_at__lt=cutoff)
    return ClapJob.objects.using(using).filter(Q(status__in=FINAL_STATUSES) & finished_before)


def prune_jobs(cutoff: datetime, *, batch: int = BATCH, using: str = "default") -> Counter:
    """Remove finished jobs older than the cutoff with their timelines and applause."""
    return delete_in_batches(expired_jobs(cutoff, using), _delete_jobs(using), batch)


def delete_jobs_of(owner: str, *, using: str = "default") -> Counter:
    """Remove every job of an owner (whatever its state) with its timeline and applause."""
    return delete_in_batches(ClapJob.objects.using(using).filter(owner=owner), _delete_jobs(using))
