"""A user deletes their account and everything it owns."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User

from tests.accounts.conftest import PASSWORD, logged_in
from tests.support.pages import submit_form as submit
from webapp.accounts.tokens import token_create
from webapp.claps.models import Applause, ClapJob, Transition

pytestmark = pytest.mark.django_db


def test_deleting_an_account_removes_its_jobs_and_tokens(carol):
    client = logged_in(carol)
    jobs = [submit(client) for _ in range(3)]
    Transition.objects.create(job_id=jobs[0], status="done", seq=1, at=datetime.now(UTC))
    Applause.of(jobs[0], b"RIFF").save(force_insert=True)
    token_create(user=carol, name="ci")
    other = ClapJob.objects.create(owner="anon:someone", claps=1)

    refused = client.post("/accounts/delete/", {"password": "wrong"})
    assert refused.status_code == 400
    assert "That is not your password" in refused.content.decode()
    assert User.objects.filter(pk=carol.pk).exists()

    response = client.post("/accounts/delete/", {"password": PASSWORD}, follow=True)
    assert "Your account is deleted, with 3 job(s) and 1 token(s)" in response.content.decode()
    assert not response.context["user"].is_authenticated
    assert not User.objects.filter(pk=carol.pk).exists()
    assert list(ClapJob.objects.values_list("id", flat=True)) == [other.id]
    assert not Transition.objects.exists() and not Applause.objects.exists()


def test_staff_accounts_are_not_deleted_from_the_site(carol):
    carol.is_staff = True
    carol.save()
    response = logged_in(carol).post("/accounts/delete/", {"password": PASSWORD}, follow=True)
    assert "removed by another administrator" in response.content.decode()
    assert User.objects.filter(pk=carol.pk).exists()


def test_a_user_deleted_by_an_administrator_takes_their_jobs(carol):
    submit(logged_in(carol))
    other = ClapJob.objects.create(owner="anon:someone", claps=1)
    admin = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    response = logged_in(admin).post(f"/admin/auth/user/{carol.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=carol.pk).exists()
    assert list(ClapJob.objects.values_list("id", flat=True)) == [other.id]


def test_password_guesses_at_deletion_are_limited(carol, settings):
    settings.LOGIN_RATE_PER_ACCOUNT = "2/min"
    client = logged_in(carol)
    for _ in range(2):
        assert client.post("/accounts/delete/", {"password": "wrong"}).status_code == 400
    refused = client.post("/accounts/delete/", {"password": PASSWORD})
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert User.objects.filter(pk=carol.pk).exists()
