"""The dashboard in headless Chromium under load (jobs submitted through the site, a
worker and the recorder at work): it refreshes itself without a reload, under the
site's Content-Security-Policy, and leaves a screenshot."""

import threading
from contextlib import contextmanager
from itertools import count

import pytest
from django.db import connection
from django.db.models import F

from tests.support.browser import off_the_loop
from tests.support.kafka import commit
from tools.waiting import wait_until
from webapp.claps import services
from webapp.dashboard.models import GroupSample

pytestmark = [pytest.mark.kafka, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@contextmanager
def every(seconds: float, step):
    """Call step() every `seconds` in a thread, until step() returns False or the block
    ends. The ORM must run there: the browser's event loop keeps it out of this thread."""
    stop = threading.Event()

    def run():
        try:
            while step() is not False and not stop.wait(seconds):
                pass
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def test_dashboard_under_load(
    live_server, admin_client, isolated_kafka, sampler, stack, artifacts, browser
):
    config = isolated_kafka
    commit(config, config.worker_group, dict.fromkeys(range(config.topics.jobs_partitions), 0))
    stack.recorder()
    batches = count()

    def submit_batch():
        for i in range(15):
            services.clap_submit(owner="anon:load", claps=1 + i % 3)
        return next(batches) < 20

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    session = admin_client.cookies["sessionid"].value
    context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    page = context.new_page()
    failed = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.on("pageerror", lambda exc: failed.append(str(exc)))
    page.on("console", lambda m: failed.append(m.text) if "Content Security" in m.text else None)

    def backlog_sampled() -> bool:
        samples = GroupSample.objects.filter(group=config.worker_group)
        return samples.filter(log_end__gt=F("position")).count() >= 2

    with every(0.5, sampler.sample_step), every(0.25, submit_batch):
        # A backlog on the charts before a worker starts to take it down.
        wait_until(lambda: off_the_loop(backlog_sampled), 30, "two samples with a backlog")
        stack.worker("worker-1", CLAP_WORK_MS="10")
        page.goto(f"{live_server.url}/admin/streams/")
        assert page.locator("svg.chart").count() == 2
        page.wait_for_selector("#streams-live[data-updated]", state="attached", timeout=10_000)
        page.wait_for_function(
            "document.querySelectorAll('svg.chart polyline').length >= 4", timeout=10_000
        )
        # The worker's own row, refreshed live: it has finished jobs in the last hour.
        page.locator("table.workers td", has_text="worker-1").wait_for(timeout=10_000)
        page.screenshot(path=artifacts / "dashboard.png", full_page=True)
    assert [f for f in failed if not f.endswith("/favicon.ico")] == []


# Counts the page's requests for the live fragment, in window.liveFetches.
LIVE_FETCHES_COUNTED = """
window.liveFetches = 0;
const realFetch = window.fetch;
window.fetch = (url, options) => {
  if (String(url).includes("live")) window.liveFetches += 1;
  return realFetch(url, options);
};
"""


def test_the_live_part_waits_while_the_keyboard_is_inside_it(
    live_server, admin_client, isolated_kafka, browser
):
    """Replacing the markup under the keyboard's focus would drop it: no refresh then."""
    context = browser.new_context()
    session = admin_client.cookies["sessionid"].value
    context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    context.add_init_script(LIVE_FETCHES_COUNTED)
    page = context.new_page()
    page.clock.install()  # the refresh timer runs only when the test advances it
    page.goto(f"{live_server.url}/admin/streams/")
    every = int(page.locator("#streams-live").get_attribute("data-refresh-ms"))

    page.evaluate(
        "() => { const cell = document.querySelector('#streams-live *');"
        " cell.tabIndex = -1; cell.focus(); cell.dataset.focused = 'yes'; }"
    )
    page.clock.run_for(3 * every)
    assert page.evaluate("window.liveFetches") == 0
    assert page.evaluate("document.activeElement.dataset.focused") == "yes"

    page.evaluate("() => document.activeElement.blur()")
    page.clock.run_for(every)
    assert page.evaluate("window.liveFetches") == 1
    page.wait_for_selector("#streams-live[data-updated]", state="attached", timeout=10_000)
    context.close()
