"""Owners see only their own jobs; another owner's job is a 404."""

import uuid

import pytest
from django.contrib.auth.models import User
from django.db import connection
from rest_framework.test import APIClient

from webapp.accounts.tokens import token_create
from webapp.claps.models import ClapJob
from webapp.claps.selectors import jobs_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_kafka(fake_publisher):
    """Ownership is decided before anything is published."""


def _submit(client, claps=1):
    response = client.post("/api/claps/", {"claps": claps}, format="json")
    assert response.status_code == 202
    return response.json()["id"]


def test_browser_sessions_are_isolated():
    alice, bob = APIClient(), APIClient()
    job = _submit(alice)
    assert alice.get(f"/api/claps/{job}/").status_code == 200
    assert bob.get(f"/api/claps/{job}/").status_code == 404
    assert bob.post(f"/api/claps/{job}/cancel/").status_code == 404
    assert bob.get("/api/claps/").json()["results"] == []
    assert [j["id"] for j in alice.get("/api/claps/").json()["results"]] == [job]


def test_unknown_and_malformed_ids_are_404():
    client = APIClient()
    _submit(client)
    assert client.get(f"/api/claps/{uuid.uuid4()}/").status_code == 404
    assert client.get("/api/claps/not-a-uuid/").status_code == 404


def test_token_users_own_their_jobs_across_clients():
    user = User.objects.create_user("carol", password="pw-long-enough-123")
    _, token = token_create(user=user, name="cli")
    first, second = APIClient(), APIClient()
    for c in (first, second):
        c.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    job = _submit(first)
    assert second.get(f"/api/claps/{job}/").status_code == 200
    assert ClapJob.objects.get(id=job).owner == f"user:{user.pk}"
    assert APIClient().get(f"/api/claps/{job}/").status_code == 404


def test_list_is_newest_first_and_paginated():
    client = APIClient()
    ids = [_submit(client) for _ in range(3)]
    page = client.get("/api/claps/").json()
    assert page["count"] == 3
    assert [j["id"] for j in page["results"]] == list(reversed(ids))


def test_jobs_accepted_in_the_same_instant_keep_one_order():
    """Pages must not overlap or skip: ties of created_at are settled by the id."""
    client = APIClient()
    ids = [_submit(client) for _ in range(6)]
    ClapJob.objects.filter(id__in=ids).update(created_at=ClapJob.objects.get(id=ids[0]).created_at)
    listed = [j["id"] for j in client.get("/api/claps/").json()["results"]]
    assert listed == sorted(ids, reverse=True)


def test_cookie_owners_need_csrf_on_writes():
    client = APIClient(enforce_csrf_checks=True)
    job = _submit(client)  # no cookie yet: nothing ambient to abuse
    assert "sessionid" in client.cookies
    response = client.post(f"/api/claps/{job}/cancel/")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_an_owners_newest_jobs_are_read_from_an_index_in_their_order():
    """The home page and the API list an owner's jobs newest first: an index must give
    them in that order, or the database sorts (or walks every owner's jobs)."""
    ClapJob.objects.bulk_create(ClapJob(owner=f"anon:{n % 3}", claps=1) for n in range(30))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # a tiny table: make it show what it can use
            cursor.execute("SET enable_seqscan = off")
        try:
            plan = jobs_of("anon:1")[:20].explain()
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("RESET enable_seqscan")
    assert "claps_owner_recent_idx" in plan, plan
    assert "Sort" not in plan and "TEMP B-TREE" not in plan, plan
