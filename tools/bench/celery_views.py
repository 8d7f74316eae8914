"""The site's submission view with Celery in place of the Kafka outbox."""

from datetime import UTC, datetime

from django.db import transaction
from rest_framework import status
from rest_framework.response import Response

from tools.bench.celery_app import perform
from webapp.claps.api.requests import json_body
from webapp.claps.api.serializers import ClapRequestSerializer, job_data
from webapp.claps.api.views import ClapJobViewSet
from webapp.claps.models import ClapJob
from webapp.claps.owners import owner_of


def celery_submit(*, owner: str, claps: int, note: str = "") -> ClapJob:
    """clap_submit's twin: the row, then after commit the task, and the row marked
    handed over (as the Kafka delivery report marks it published)."""
    with transaction.atomic():
        job = ClapJob.objects.create(owner=owner, claps=claps, note=note)

        def enqueue():
            perform.delay(str(job.id))
            ClapJob.objects.filter(id=job.id).update(published_at=datetime.now(UTC))

        transaction.on_commit(enqueue)
    return job


class CeleryClapJobViewSet(ClapJobViewSet):
    def create(self, request):
        form = ClapRequestSerializer(data=json_body(request))
        form.is_valid(raise_exception=True)
        job = celery_submit(owner=owner_of(request), **form.validated_data)
        return Response(job_data(job), status=status.HTTP_202_ACCEPTED)
