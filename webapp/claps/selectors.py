"""Reads of the web site."""

import uuid

from django.db.models import QuerySet

from webapp.claps.models import ClapJob


def jobs_of(owner: str) -> QuerySet[ClapJob]:
    # The id settles ties: pages of a listing must not overlap or skip a job.
    return ClapJob.objects.filter(owner=owner).order_by("-created_at", "-id")


def job_of(owner: str, job_id) -> ClapJob | None:
    """The owner's job, or None: another owner's job is indistinguishable from none."""
    return jobs_of(owner).filter(id=job_id).first()


def job_for_operators(job_id: str) -> ClapJob | None:
    """The job with this id, whoever owns it (for operators), or None."""
    try:
        key = uuid.UUID(job_id)
    except ValueError:
        return None
    return ClapJob.objects.filter(id=key).first()
