"""API tokens on request: created on the account page (shown once), stored hashed,
used with the API as the user, revoked; documented in the OpenAPI schema."""

import hashlib
import re

import pytest
from django.contrib.sessions.models import Session
from rest_framework.test import APIClient

from tests.accounts.conftest import logged_in
from webapp.accounts.models import ApiToken
from webapp.claps.models import ClapJob

pytestmark = pytest.mark.django_db


def create_token(client, name="ci") -> str:
    page = client.post("/accounts/", {"name": name}, follow=True)
    assert page.status_code == 200
    return re.search(r'id="new-token"[^>]*value="([^"]+)"', page.content.decode()).group(1)


def api(token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_a_token_is_shown_once_and_stored_hashed(carol):
    client = logged_in(carol)
    token = create_token(client, "nightly script")
    row = ApiToken.objects.get()
    assert row.digest == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {row.name, row.prefix, row.digest} and token.startswith(row.prefix)
    page = client.get("/accounts/")
    assert token not in page.content.decode()
    html = page.content.decode()
    assert "nightly script" in html and row.prefix in html and "never" in html


def test_a_new_token_never_reaches_the_database_in_the_clear(carol):
    client = logged_in(carol)
    assert client.post("/accounts/", {"name": "ci"}).status_code == 302
    sessions = [repr(row.get_decoded()) for row in Session.objects.all()]  # on its way
    shown = client.get("/accounts/")
    token = re.search(r'id="new-token"[^>]*value="([^"]+)"', shown.content.decode()).group(1)
    assert sessions and not any(token in session for session in sessions)
    assert "no-store" in shown["Cache-Control"]
    assert token not in client.get("/accounts/").content.decode()  # shown once


def test_a_tokens_jobs_are_the_users_jobs(carol):
    client = logged_in(carol)
    token = create_token(client)
    created = api(token).post("/api/claps/", {"claps": 2}, format="json")
    assert created.status_code == 202
    job = ClapJob.objects.get(id=created.json()["id"])
    assert job.owner == f"user:{carol.pk}"
    assert client.get(f"/claps/{job.id}/").status_code == 200  # same jobs on the site
    assert ApiToken.objects.get().last_used_at is not None
    assert "never" not in client.get("/accounts/").content.decode()


def test_a_revoked_token_is_refused(carol):
    client = logged_in(carol)
    token = create_token(client)
    assert api(token).get("/api/claps/").status_code == 200
    row = ApiToken.objects.get()
    assert client.post(f"/accounts/tokens/{row.pk}/revoke/").status_code == 302
    refused = api(token).get("/api/claps/")
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == "Token"
    assert not ApiToken.objects.exists()


def test_only_the_owner_revokes_a_token(carol, django_user_model):
    token = create_token(logged_in(carol))
    mallory = django_user_model.objects.create_user("mallory", password="clap-along-2026")
    row = ApiToken.objects.get()
    page = logged_in(mallory).post(f"/accounts/tokens/{row.pk}/revoke/", follow=True)
    assert "No such token" in page.content.decode()
    assert api(token).get("/api/claps/").status_code == 200


def test_a_malformed_or_unknown_token_is_a_401():
    assert api("cs_not-a-token").get("/api/claps/").status_code == 401
    assert APIClient(HTTP_AUTHORIZATION="Token").get("/api/claps/").status_code == 401


def test_an_empty_token_name_is_refused(carol):
    response = logged_in(carol).post("/accounts/", {"name": ""})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_the_schema_documents_token_auth():
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    scheme = schema["components"]["securitySchemes"]["tokenAuth"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    assert "/accounts/" in scheme["description"]
    submit = schema["paths"]["/api/claps/"]["post"]
    assert {"tokenAuth": []} in submit["security"]
