"""A job reaches the publisher only once its row is committed (webapp.claps.services)."""

import pytest
from django.db import connection, transaction

from webapp.claps import services
from webapp.claps.models import ClapJob

pytestmark = pytest.mark.django_db(transaction=True)


class Boom(Exception):
    pass


def test_on_its_own_the_row_is_committed_before_the_job_is_published(fake_publisher):
    seen = []
    fake_publisher.publish_job = lambda job: seen.append(
        (job.id, connection.in_atomic_block, ClapJob.objects.filter(id=job.id).exists())
    )
    job = services.clap_submit(owner="anon:x", claps=2)
    assert seen == [(job.id, False, True)]


def test_inside_a_transaction_that_rolls_back_nothing_is_published(fake_publisher):
    with pytest.raises(Boom), transaction.atomic():
        services.clap_submit(owner="anon:x", claps=2)
        assert fake_publisher.jobs == []  # not before the caller commits
        raise Boom
    assert fake_publisher.jobs == []
    assert not ClapJob.objects.exists()
