"""The job page's edges in headless Chromium: its title once a job ended without
applause, applause stored after `done`, and polling through a second pick-up."""

import re

import pytest

from tests.browser.test_journey import FAILING_SOCKETS, console_errors, submit
from tests.support.browser import off_the_loop
from tests.support.pipeline import start_web
from webapp.claps.models import Applause, ClapJob, Status
from worker.applause import synthesize

pytestmark = [pytest.mark.kafka, pytest.mark.browser]


def _job_page(stack, browser, claps: int, init_script: str | None = None):
    """A page on a job of its own, submitted with no worker to perform it."""
    base = start_web(stack)
    context = browser.new_context()
    context.set_default_timeout(30_000)
    if init_script:
        context.add_init_script(init_script)
    page = context.new_page()
    page.goto(f"{base}/")
    url = submit(page, claps)
    return base, page, re.search(r"/claps/([0-9a-f-]{36})/$", url).group(1)


def test_a_job_that_ended_without_applause_says_so_in_its_title(stack, browser):
    _, page, job_id = _job_page(stack, browser, claps=10)
    off_the_loop(
        lambda: ClapJob.objects.filter(id=job_id).update(status=Status.FAILED, done=4, error="x")
    )
    page.reload()
    page.wait_for_function("() => document.title === 'Failed · Clapstream'")
    assert "40%" not in page.title()


def test_applause_stored_after_its_done_is_played_once_it_is(stack, browser):
    """`done` may come before the applause is stored: its URL answers 404 until then."""
    _, page, job_id = _job_page(stack, browser, claps=2)
    errors = console_errors(page)
    asked = []
    page.on("request", lambda r: asked.append(r.url) if r.url.endswith("applause.wav/") else None)
    off_the_loop(lambda: ClapJob.objects.filter(id=job_id).update(status=Status.DONE, done=2))
    page.reload()
    page.wait_for_function("() => document.querySelector('audio').error !== null")
    off_the_loop(lambda: Applause.of(job_id, synthesize(2, job_id)).save(force_insert=True))
    page.wait_for_function("() => document.querySelector('audio').duration > 0")
    assert len(asked) >= 2  # asked again after the 404
    assert [e for e in errors if "Failed to load resource" not in e] == []  # the 404 alone


def test_polling_follows_a_second_pick_up_that_starts_its_count_again(stack, browser):
    """The API has no seq: a later pick-up shows fewer claps done than the one before,
    and must not be taken for an old answer."""
    _, page, job_id = _job_page(stack, browser, claps=10, init_script=FAILING_SOCKETS)
    answers = iter([(1, 5), (2, 1)])  # (attempts, claps done) of each poll

    def running(route):
        job = route.fetch().json()
        attempts, done = next(answers, (2, 1))
        job.update(status="running", attempts=attempts, worker=f"w{attempts}")
        job["progress"]["done"] = done
        route.fulfill(json=job)

    page.route(re.compile(rf"/api/claps/{job_id}/$"), running)
    page.reload()
    log = page.locator("[data-ref=log]")
    page.wait_for_function(
        "() => document.querySelector('[data-ref=log]').textContent.includes('again')"
    )
    assert page.locator("[data-ref=progress-text]").text_content() == "1/10 claps (10%)"
    assert "w2 picked up your job again" in log.text_content()
