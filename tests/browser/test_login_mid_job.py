"""Logging in while a job runs, in headless Chromium against daphne, a recorder and a
worker over real Kafka: the job becomes the account's, and the page that watches it
sees it finish, even across a reconnect made with the new, logged-in session."""

import re

import pytest

from tests.support.browser import off_the_loop
from tests.support.pipeline import start_web

pytestmark = [pytest.mark.kafka, pytest.mark.browser]
PASSWORD = "mid-job-clap-2026"


@pytest.fixture
def frank(stack, django_user_model):
    return django_user_model.objects.create_user("frank", "frank@example.com", PASSWORD)


def test_log_in_mid_job_and_see_it_finish(stack, frank, accessibility, artifacts):
    from playwright.sync_api import expect

    from webapp.claps.models import ClapJob

    stack.recorder()
    base = start_web(stack)
    context, audit = accessibility
    sockets, snapshots = [], []

    def relay(ws):
        sockets.append(ws)
        server = ws.connect_to_server()

        def forward(message):
            if '"type": "snapshot"' in message or '"type":"snapshot"' in message:
                snapshots.append(len(sockets))
            ws.send(message)

        server.on_message(forward)

    # The job page's socket (the home page in the other tab has its feed too).
    context.route_web_socket(re.compile(r"/ws/claps/[0-9a-f-]{36}/"), relay)
    watching = context.new_page()
    watching.goto(f"{base}/")
    watching.get_by_label("Number of claps").fill("12")
    watching.get_by_role("button", name="Clap!").click()
    watching.wait_for_url(re.compile(r"/claps/[0-9a-f-]{36}/$"))
    job_id = watching.url.rstrip("/").rsplit("/", 1)[1]
    watching.evaluate("window.sameDocument = true")
    audit.check(watching, "job page")
    # 9 s of work: room for a login on a busy machine before the job ends.
    stack.worker("worker-1", CLAP_WORK_MS="750")
    watching.wait_for_function("() => document.querySelector('progress').value >= 1")

    # Another tab of the same browser logs in while the job runs.
    tab = context.new_page()
    tab.goto(f"{base}/accounts/login/")
    tab.get_by_label("Username").fill("frank")
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Log in").click()
    expect(tab.get_by_role("link", name="frank")).to_be_visible(timeout=30_000)
    expect(tab.locator(f'a[href="/claps/{job_id}/"]')).to_be_visible(timeout=30_000)
    audit.check(tab, "home, logged in mid-job")
    owner = off_the_loop(lambda: ClapJob.objects.get(id=job_id).owner)
    assert owner == f"user:{frank.pk}"

    # The open socket goes on; drop it, and the page's reconnect (now with the
    # logged-in session's cookie) is let in as the job's owner.
    assert watching.evaluate("document.querySelector('progress').value") < 12
    sockets[0].close(code=1012)
    # The rest of the job: up to 9 s of work, more on a busy machine.
    expect(watching.get_by_role("heading", name="Applause!")).to_be_visible(timeout=60_000)
    assert watching.evaluate("window.sameDocument") is True
    expect(watching.locator("[data-ref=progress-text]")).to_have_text("12/12 claps (100%)")
    assert len(sockets) == 2 and snapshots == [1, 2]
    audit.check(watching, "job page, done")
    watching.screenshot(path=artifacts / "login-mid-job.png", full_page=True)
    assert audit.failures() == []
