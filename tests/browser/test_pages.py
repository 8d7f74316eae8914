"""The pages without a browser: forms, ownership, cancel and retry, no inline script."""

import json
import re
import uuid

import pytest
from django.test import Client

from tests.support.pages import submit_form
from webapp.claps.models import ClapJob, Status

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def publisher(fake_publisher):
    return fake_publisher


def submit(client, **data) -> ClapJob:
    return ClapJob.objects.get(id=submit_form(client, **{"claps": 5, **data}))


def test_home_offers_the_form_without_creating_a_session():
    response = Client().get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="id_claps">Number of claps</label>' in html
    assert '<label for="id_note">Note (optional)</label>' in html
    assert "Clap!" in html
    assert "sessionid" not in response.cookies


def test_a_submission_redirects_to_its_processing_page_and_is_published(
    publisher, django_capture_on_commit_callbacks
):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        job = submit(client, claps=7, note="encore")
    assert (job.claps, job.note, job.status) == (7, "encore", Status.QUEUED)
    assert publisher.jobs == [job.id]
    home = client.get("/").content.decode()
    assert f'href="/claps/{job.id}/"' in home
    assert "7 claps" in home and "Queued" in home


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"claps": 0}, "greater than or equal to 1"),
        ({"claps": 101}, "less than or equal to 100"),
        ({"claps": "many"}, "Enter a whole number"),
        ({"claps": 3, "note": "x" * 281}, "at most 280 characters"),
    ],
)
def test_bad_input_is_shown_inline(data, error):
    response = Client().post("/", {"note": "", **data})
    assert response.status_code == 200
    html = response.content.decode()
    assert error in html
    assert 'aria-invalid="true"' in html
    assert not ClapJob.objects.exists()


def test_submissions_are_throttled_like_the_api(settings):
    settings.CLAP_SUBMIT_RATE = "2/min"
    client = Client()
    submit(client)
    submit(client)
    response = client.post("/", {"claps": 1, "note": ""})
    assert response.status_code == 429
    assert "Too many claps" in response.content.decode()
    assert ClapJob.objects.count() == 2


def test_forms_need_the_csrf_token():
    client = Client(enforce_csrf_checks=True)
    assert client.post("/", {"claps": 1}).status_code == 403
    token = client.get("/").cookies["csrftoken"].value
    assert client.post("/", {"claps": 1, "csrfmiddlewaretoken": token}).status_code == 302


def test_the_processing_page_carries_the_snapshot_for_its_script():
    client = Client()
    job = submit(client, claps=4)
    response = client.get(f"/claps/{job.id}/")
    assert response.status_code == 200
    html = response.content.decode()
    snapshot = json.loads(
        re.search(r'<script id="job-snapshot" type="application/json">(.*?)</script>', html).group(
            1
        )
    )
    assert (snapshot["id"], snapshot["status"], snapshot["seq"]) == (str(job.id), "queued", 0)
    assert f'data-socket-path="/ws/claps/{job.id}/"' in html
    assert 'max="4" value="0"' in html
    assert 'aria-live="polite"' in html


def test_no_inline_script_or_handler_on_any_page():
    client = Client()
    job = submit(client)
    for url in ("/", f"/claps/{job.id}/", "/?claps=3&note=hi"):
        html = client.get(url).content.decode()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, tag
        assert not re.search(r"\son[a-z]+=", html)
        assert "style=" not in html


def test_a_done_job_shows_the_applause():
    client = Client()
    job = submit(client, note="bravo")
    ClapJob.objects.filter(id=job.id).update(status=Status.DONE, done=5)
    html = client.get(f"/claps/{job.id}/").content.decode()
    assert f'src="/api/claps/{job.id}/applause.wav/"' in html
    assert "bravo" in html
    assert 'href="/?claps=5&amp;note=bravo"' in html


def test_other_visitors_get_a_404():
    job = submit(Client())
    stranger = Client()
    stranger.get("/")
    assert stranger.get(f"/claps/{job.id}/").status_code == 404
    assert stranger.post(f"/claps/{job.id}/cancel/").status_code == 404
    assert stranger.post(f"/claps/{job.id}/retry/").status_code == 404
    assert Client().get(f"/claps/{uuid.uuid4()}/").status_code == 404
    assert Client().get("/claps/not-a-uuid/").status_code == 404


def test_cancel_asks_the_workers_and_returns_to_the_job(publisher):
    client = Client()
    job = submit(client)
    assert client.get(f"/claps/{job.id}/cancel/").status_code == 405
    response = client.post(f"/claps/{job.id}/cancel/")
    assert response.status_code == 302 and response["Location"] == f"/claps/{job.id}/"
    assert publisher.cancels == [str(job.id)]


def test_cancel_of_a_finished_job_says_so(publisher):
    client = Client()
    job = submit(client)
    ClapJob.objects.filter(id=job.id).update(status=Status.DONE)
    response = client.post(f"/claps/{job.id}/cancel/", follow=True)
    assert "Nothing to cancel" in response.content.decode()
    assert publisher.cancels == []


def test_retry_of_a_failed_job_starts_a_new_one():
    client = Client()
    job = submit(client, claps=3, note="again")
    ClapJob.objects.filter(id=job.id).update(status=Status.FAILED, error="boom")
    assert "boom" in client.get(f"/claps/{job.id}/").content.decode()
    retried = client.post(f"/claps/{job.id}/retry/")
    new = ClapJob.objects.exclude(id=job.id).get()
    assert retried["Location"] == f"/claps/{new.id}/"
    assert (new.claps, new.note, new.owner) == (3, "again", job.owner)


def test_retries_are_admitted_like_submissions(settings):
    settings.CLAP_SUBMIT_RATE = "2/min"
    client = Client()
    job = submit(client)  # the first of the two
    ClapJob.objects.filter(id=job.id).update(status=Status.FAILED)
    assert client.post(f"/claps/{job.id}/retry/").status_code == 302
    refused = client.post(f"/claps/{job.id}/retry/", follow=True)
    assert "Too many claps at once" in refused.content.decode()
    assert ClapJob.objects.count() == 2


def test_retry_of_a_job_that_did_not_fail_says_so():
    client = Client()
    job = submit(client)
    response = client.post(f"/claps/{job.id}/retry/", follow=True)
    assert "Nothing to retry" in response.content.decode()
    assert ClapJob.objects.count() == 1


def test_clap_again_prefills_the_form():
    html = Client().get("/?claps=12&note=once+more").content.decode()
    assert 'value="12"' in html and 'value="once more"' in html
