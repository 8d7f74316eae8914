"""A job's URLs from routes reversed once are the URLs reverse() gives, prefix and all."""

import uuid

import pytest
from django.urls import get_script_prefix, reverse, set_script_prefix

from webapp.claps.links import job_url

ROUTES = ("clap-applause", "job-page", "clap-detail")


@pytest.mark.parametrize("name", ROUTES)
def test_a_job_url_is_what_reverse_gives(name):
    for job_id in (uuid.uuid4(), str(uuid.uuid4())):
        assert job_url(name, job_id) == reverse(name, kwargs={"pk": job_id})


@pytest.fixture
def script_prefix():
    before = get_script_prefix()
    yield set_script_prefix
    set_script_prefix(before)


@pytest.mark.parametrize("name", ROUTES)
def test_a_job_url_follows_the_script_prefix_of_the_moment(name, script_prefix):
    job_id = uuid.uuid4()
    plain = job_url(name, job_id)  # the route is reversed without a prefix
    script_prefix("/behind/a/proxy/")
    assert job_url(name, job_id) == reverse(name, kwargs={"pk": job_id})
    assert job_url(name, job_id) == f"/behind/a/proxy/{plain.removeprefix('/')}"
