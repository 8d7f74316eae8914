"""Every kind of bad input gets a 400 that names the problem, and creates nothing."""

import json

import pytest
from rest_framework.test import APIClient

from webapp.claps.models import ClapJob

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_kafka(fake_publisher):
    """These tests are about input; publishing is tested against the real broker."""


@pytest.fixture
def api():
    return APIClient()


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"claps": 0}, "claps", "greater than or equal to 1"),
        ({"claps": 101}, "claps", "less than or equal to 100"),
        ({"claps": "abc"}, "claps", "valid integer"),
        ({"claps": None}, "claps", "may not be null"),
        ({"claps": "5"}, "claps", "valid integer"),  # JSON types as the schema says
        ({"claps": 3, "note": 0}, "note", "valid string"),
        ({"claps": 3, "note": "x" * 281}, "note", "no more than 280"),
    ],
)
def test_bad_fields_name_the_field(api, body, field, words):
    response = api.post("/api/claps/", body, format="json")
    assert response.status_code == 400
    assert words in response.json()[field][0]
    assert ClapJob.objects.count() == 0


@pytest.mark.parametrize(
    ("raw", "content_type", "words"),
    [
        ("", "application/json", "request body is missing"),
        ("{not json", "application/json", "JSON parse error"),
        ("[1, 2]", "application/json", "must be a JSON object"),
        ("claps=3", "application/x-www-form-urlencoded", "application/json"),
        ("claps=3", "text/plain", "application/json"),
        (json.dumps({"claps": 1, "note": "x" * 5000}), "application/json", "too large"),
        ('{"a":' + "[" * 2000 + "]" * 2000 + "}", "application/json", "nested too deeply"),
    ],
)
def test_bad_bodies_are_explained(api, raw, content_type, words):
    response = api.generic("POST", "/api/claps/", raw, content_type=content_type)
    assert response.status_code == 400
    assert words in response.json()["detail"]
    assert ClapJob.objects.count() == 0


def test_a_good_request_is_accepted_with_links(api):
    response = api.post("/api/claps/", {"claps": 5, "note": "bravo"}, format="json")
    assert response.status_code == 202
    job = response.json()
    assert job["status"] == "queued"
    assert job["progress"] == {"done": 0, "total": 5}
    assert job["links"] == {"page": f"/claps/{job['id']}/", "socket": f"/ws/claps/{job['id']}/"}
    assert ClapJob.objects.get(id=job["id"]).note == "bravo"


def test_claps_default_to_one(api):
    response = api.post("/api/claps/", {"note": ""}, format="json")
    assert response.status_code == 202
    assert response.json()["claps"] == 1


def test_submissions_are_throttled_per_owner(api, settings):
    settings.CLAP_SUBMIT_RATE = "2/min"
    codes = [api.post("/api/claps/", {"claps": 1}, format="json").status_code for _ in range(3)]
    last = api.post("/api/claps/", {"claps": 1}, format="json")
    other = APIClient().post("/api/claps/", {"claps": 1}, format="json")
    assert codes == [202, 202, 429]
    assert int(last["Retry-After"]) > 0
    assert "throttled" in last.json()["detail"].lower()
    assert other.status_code == 202  # another owner has its own budget
