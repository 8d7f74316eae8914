"""An anonymous visitor's jobs become theirs when they log in or sign up."""

import pytest
from django.test import Client

from tests.accounts.conftest import PASSWORD
from tests.support.pages import submit_form as submit
from webapp.claps.models import ClapJob
from webapp.claps.owners import SESSION_KEY

pytestmark = pytest.mark.django_db


def test_logging_in_carries_the_sessions_jobs_over(carol):
    visitor, stranger = Client(), Client()
    mine = {submit(visitor), submit(visitor)}
    theirs = submit(stranger)
    response = visitor.post("/accounts/login/", {"username": "carol", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert (
        set(map(str, ClapJob.objects.filter(owner=f"user:{carol.pk}").values_list("id", flat=True)))
        == mine
    )
    assert ClapJob.objects.get(id=theirs).owner.startswith("anon:")
    assert SESSION_KEY not in visitor.session
    home = visitor.get("/").content.decode()
    assert all(f"/claps/{job}/" in home for job in mine)
    assert all(visitor.get(f"/claps/{job}/").status_code == 200 for job in mine)
    # The jobs stay with the account, not the browser: logged out they are not shown.
    visitor.post("/accounts/logout/")
    assert all(visitor.get(f"/claps/{job}/").status_code == 404 for job in mine)


def test_signing_up_carries_them_over_and_logs_in():
    visitor = Client()
    job = submit(visitor)
    response = visitor.post(
        "/accounts/signup/",
        {
            "username": "dave",
            "email": "dave@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
        follow=True,
    )
    html = response.content.decode()
    assert "Welcome, dave!" in html and f"/claps/{job}/" in html
    assert ClapJob.objects.get(id=job).owner == f"user:{response.context['user'].pk}"
    assert response.context["user"].is_authenticated


def test_the_api_sees_the_same_jobs_after_login(carol):
    visitor = Client()
    job = submit(visitor)
    visitor.post("/accounts/login/", {"username": "carol", "password": PASSWORD})
    listed = visitor.get("/api/claps/").json()["results"]
    assert [j["id"] for j in listed] == [job]
