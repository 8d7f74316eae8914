"""The home page's list of recent claps follows its jobs live over the owner's feed,
in headless Chromium against daphne, a recorder and a worker over real Kafka."""

import re

import pytest

from tests.browser.test_journey import console_errors, submit
from tests.support.pipeline import start_web

pytestmark = [pytest.mark.kafka, pytest.mark.browser]


def test_the_list_of_recent_claps_updates_without_a_reload(stack, browser):
    from playwright.sync_api import expect

    stack.recorder()
    base = start_web(stack)
    page = browser.new_context().new_page()
    page.set_default_timeout(30_000)
    errors = console_errors(page)
    page.goto(f"{base}/")
    job_url = submit(page, 4, "live list")  # no worker yet: it waits in line
    job_id = re.search(r"/claps/([0-9a-f-]{36})/$", job_url).group(1)

    page.goto(f"{base}/")
    badge = page.locator(f"li[data-job='{job_id}'] .badge")
    expect(badge).to_have_text("Queued")
    page.evaluate("window.sameDocument = true")
    page.wait_for_function(
        "() => performance.getEntriesByType('resource').some((r) => r.name.includes('/api/claps/'))"
    )  # the feed is open: the page caught up with the job after opening it
    stack.worker("worker-3", CLAP_WORK_MS="250")

    expect(badge).to_have_text("Running")
    expect(badge).to_have_text("Done")
    assert page.evaluate("window.sameDocument") is True
    assert errors == []
