"""The home page's list of recent claps follows its jobs live over the owner's feed,
in headless Chromium against daphne, a recorder and a worker over real Kafka."""

import re

import pytest

from tests.browser.test_journey import FAILING_SOCKETS, console_errors, submit
from tests.support.browser import off_the_loop
from tests.support.pipeline import start_web
from tools.waiting import wait_until
from webapp.claps.models import ClapJob, Status

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


# Records the codes the page closes its sockets with, in window.closedWith.
CLOSES_RECORDED = """
window.closedWith = [];
window.WebSocket = class extends window.WebSocket {
  close(code, reason) {
    window.closedWith.push(code);
    super.close(code, reason);
  }
};
"""


def _queued_job_listed(stack, browser):
    """A visitor's context and page whose list shows one job waiting (no worker yet)."""
    stack.recorder()
    base = start_web(stack)
    context = browser.new_context()
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.goto(f"{base}/")
    job_url = submit(page, 1, "ended unseen")
    return base, context, re.search(r"/claps/([0-9a-f-]{36})/$", job_url).group(1)


def test_the_feed_closes_once_the_catch_up_finds_every_job_ended(stack, browser):
    """A job that ended between the page's load and its feed's opening: the catch-up
    shows it, and the page closes the feed instead of holding a socket for nothing."""
    from playwright.sync_api import expect

    base, context, job_id = _queued_job_listed(stack, browser)
    context.add_init_script(CLOSES_RECORDED)
    feeds = []

    def job_done() -> None:
        wait_until(
            lambda: ClapJob.objects.get(id=job_id).status == Status.DONE,
            timeout=30,
            what="the job to end before its feed opens",
        )

    def open_once_the_job_ended(ws):
        feeds.append(ws)
        stack.worker("worker-4")
        off_the_loop(job_done)
        # The server's own messages are held back: the feed begins with what its relay
        # remembers (the job's `done`), and this is about the page's catch-up alone.
        ws.connect_to_server().on_message(lambda message: None)

    context.route_web_socket(re.compile(r"/ws/claps/$"), open_once_the_job_ended)
    page = context.new_page()
    errors = console_errors(page)
    page.goto(f"{base}/")
    expect(page.locator(f"li[data-job='{job_id}'] .badge")).to_have_text("Done")
    page.wait_for_function("() => window.closedWith.includes(1000)")
    assert len(feeds) == 1
    assert errors == []
    context.close()


def test_the_feed_gives_up_after_five_handshakes_that_never_open(stack, browser):
    """Reconnects back off and stop: a network that never lets a socket through is not
    tried forever (the list then stays as loaded, and says so)."""
    from playwright.sync_api import expect

    base, context, job_id = _queued_job_listed(stack, browser)
    context.add_init_script(FAILING_SOCKETS)
    page = context.new_page()
    page.clock.install()  # the page's timers run only when the test advances them
    page.goto(f"{base}/")
    page.wait_for_function("() => window.socketsTried === 1")
    notice = page.locator("[data-ref=connection][role=status]")
    assert notice.text_content() == ""
    page.clock.run_for(10 * 60_000)  # the backoff's longest wait is 15 s
    assert page.evaluate("window.socketsTried") == 5
    expect(notice).to_have_text("Live updates are unavailable: reload the page for the latest.")
    page.clock.run_for(60 * 60_000)
    assert page.evaluate("window.socketsTried") == 5
    assert page.locator(f"li[data-job='{job_id}'] .badge").text_content() == "Queued"
    context.close()
