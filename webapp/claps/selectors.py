"""Reads of the web site."""

from django.db.models import QuerySet

from webapp.claps.models import ClapJob


def jobs_of(owner: str) -> QuerySet[ClapJob]:
    return ClapJob.objects.filter(owner=owner).order_by("-created_at")


def job_of(owner: str, job_id) -> ClapJob | None:
    """The owner's job, or None: another owner's job is indistinguishable from none."""
    return jobs_of(owner).filter(id=job_id).first()
