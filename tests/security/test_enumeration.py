"""Owners see only their own jobs, and job ids cannot be probed: another owner's id,
a random id and a malformed id get the same answer from the API, the pages and the
job socket. Ids are random UUID4s, so there is nothing to count up either."""

import re
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from webapp.claps.models import ClapJob

FOREIGN, RANDOM, MALFORMED = "foreign", "random", "malformed"
API_ROUTES = [("get", "/api/claps/{}/"), ("post", "/api/claps/{}/cancel/")]
API_ROUTES += [("get", "/api/claps/{}/applause.wav/")]
PAGE_ROUTES = [("get", "/claps/{}/"), ("post", "/claps/{}/cancel/"), ("post", "/claps/{}/retry/")]


@pytest.fixture
def ids(db, fake_publisher):
    """A job of someone else's, for a caller who owns one job too."""
    someone = APIClient()
    theirs = someone.post("/api/claps/", {"claps": 2}, format="json").json()["id"]
    return {FOREIGN: theirs, RANDOM: str(uuid.uuid4()), MALFORMED: "not-a-job-id"}


@pytest.fixture
def caller(ids):
    client = APIClient()
    mine = client.post("/api/claps/", {"claps": 1}, format="json").json()["id"]
    client.mine = mine
    return client


def _answer(response) -> tuple:
    return response.status_code, response.get("Content-Type"), response.content


def test_job_ids_are_random_uuid4(caller):
    assert uuid.UUID(caller.mine).version == 4


@pytest.mark.parametrize(("method", "route"), API_ROUTES)
def test_the_api_answers_every_id_that_is_not_yours_alike(caller, ids, method, route):
    answers = {kind: _answer(getattr(caller, method)(route.format(i))) for kind, i in ids.items()}
    assert answers[FOREIGN][0] == 404
    assert answers[FOREIGN] == answers[RANDOM] == answers[MALFORMED]


def test_another_owners_job_costs_the_same_queries_as_no_job(caller, ids):
    def queries(job_id):
        with CaptureQueriesContext(connection) as captured:
            caller.get(f"/api/claps/{job_id}/")
        return [re.sub(r"'[^']*'", "?", q["sql"]) for q in captured]  # values aside

    assert queries(ids[FOREIGN]) == queries(ids[RANDOM])


@pytest.mark.parametrize(("method", "route"), PAGE_ROUTES)
def test_the_pages_answer_every_id_that_is_not_yours_alike(ids, settings, method, route):
    settings.DEBUG = False  # the production 404 page, not the debug one
    browser = Client()
    browser.post("/", {"claps": 1})  # the visitor owns a job too
    answers = {kind: _answer(getattr(browser, method)(route.format(i))) for kind, i in ids.items()}
    assert answers[FOREIGN][0] == 404
    assert answers[FOREIGN] == answers[RANDOM] == answers[MALFORMED]


def test_the_home_page_lists_only_the_visitors_jobs(ids):
    browser = Client()
    browser.post("/", {"claps": 1})
    mine = str(ClapJob.objects.latest("created_at").id)
    page = browser.get("/").content.decode()
    assert mine in page
    assert ids[FOREIGN] not in page
