"""A visitor's whole journey in headless Chromium against daphne, a recorder and a
worker over real Kafka: submit, watch it live, get the applause."""

import re

import pytest

from tests.support.pipeline import start_web

pytestmark = [pytest.mark.kafka, pytest.mark.browser]
PHONE = {"width": 390, "height": 844}


def console_errors(page) -> list[str]:
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def submit(page, claps: int, note: str = "") -> str:
    """Fill in and send the home page's form; returns the job page's URL."""
    page.get_by_label("Number of claps").fill(str(claps))
    page.get_by_label("Note (optional)").fill(note)
    page.get_by_role("button", name="Clap!").click()
    page.wait_for_url(re.compile(r"/claps/[0-9a-f-]{36}/$"))
    return page.url


def test_submit_watch_and_hear_the_applause(stack, browser, artifacts):
    from playwright.sync_api import expect

    stack.recorder()
    base = start_web(stack)

    visitor = browser.new_context(viewport=PHONE)
    visitor.set_default_timeout(30_000)
    page = visitor.new_page()
    errors = console_errors(page)

    page.goto(f"{base}/")
    expect(page.get_by_role("heading", name="Your recent claps")).to_be_visible()
    page.screenshot(path=artifacts / "home.png", full_page=True)
    job_url = submit(page, 5, "bravo, browser")
    page.evaluate("window.sameDocument = true")
    log = page.locator("[data-ref=log]")
    expect(log).to_contain_text(re.compile(r"in line: 1st on partition \d"))
    stack.worker("worker-2", CLAP_WORK_MS="250")

    # The bar moves with no reload: some claps done, not all.
    page.wait_for_function(
        "() => { const bar = document.querySelector('progress'); "
        "return bar.value >= 1 && bar.value < bar.max; }"
    )
    expect(page.locator("[data-ref=status]")).to_have_text("Running")
    page.screenshot(path=artifacts / "processing.png", full_page=True)

    applause = page.get_by_role("heading", name="Applause!")
    expect(applause).to_be_visible()
    assert page.evaluate("window.sameDocument") is True
    expect(page.locator("[data-ref=progress-text]")).to_have_text("5/5 claps (100%)")
    expect(log).to_contain_text("worker-2 picked up your job")
    expect(log).to_contain_text("done: 5 claps")
    expect(page.locator(".note")).to_have_text("bravo, browser")
    expect(page.get_by_role("link", name="Clap again").first).to_be_visible()

    page.wait_for_function(
        "() => { const audio = document.querySelector('audio'); "
        "return audio.readyState >= 1 && audio.duration > 0; }"
    )
    wav = page.request.get(base + page.locator("audio").get_attribute("src"))
    assert wav.status == 200 and wav.headers["content-type"] == "audio/wav"
    page.screenshot(path=artifacts / "applause.png", full_page=True)

    stranger = browser.new_context().new_page()
    assert stranger.goto(job_url).status == 404
    stranger.goto(f"{base}/")
    socket_path = job_url.replace(base, "").replace("/claps/", "/ws/claps/")
    code = stranger.evaluate(
        """(path) => new Promise((resolve) => {
            const ws = new WebSocket(`ws://${location.host}${path}`);
            ws.onclose = (event) => resolve(event.code);
        })""",
        socket_path,
    )
    assert code == 4403

    assert errors == []
    visitor.close()


# Stands in for a network where WebSockets never get through: every attempt fails,
# counted in window.socketsTried.
FAILING_SOCKETS = """
window.socketsTried = 0;
window.WebSocket = class extends EventTarget {
  constructor() {
    super();
    window.socketsTried += 1;
    setTimeout(() => {
      const event = new CloseEvent("close", { code: 1006 });
      this.dispatchEvent(event);
      if (this.onclose) this.onclose(event);
    }, 10);
  }
};
"""


def test_a_dropped_socket_reconnects_and_a_blocked_one_falls_back_to_polling(stack, browser):
    from playwright.sync_api import expect

    stack.recorder()
    stack.worker("worker-1", CLAP_WORK_MS="250")
    base = start_web(stack)

    dropping = browser.new_context()
    dropping.set_default_timeout(30_000)
    connections = []

    def drop_at_first_progress(ws):
        connections.append(ws)
        server = ws.connect_to_server()
        first = len(connections) == 1

        def forward(message):
            ws.send(message)
            if first and '"type":"progress"' in message.replace(" ", ""):
                ws.close(code=1012)

        server.on_message(forward)

    dropping.route_web_socket(re.compile(r"/ws/claps/"), drop_at_first_progress)
    page = dropping.new_page()
    errors = console_errors(page)
    page.goto(f"{base}/")
    submit(page, 6)

    blocked = browser.new_context()
    blocked.set_default_timeout(30_000)
    blocked.add_init_script(FAILING_SOCKETS)
    polling = blocked.new_page()
    polling_errors = console_errors(polling)
    polls = []
    polling.on("request", lambda r: polls.append(r.url) if "/api/claps/" in r.url else None)
    polling.goto(f"{base}/")
    polling_url = submit(polling, 3)

    for p in (page, polling):
        expect(p.get_by_role("heading", name="Applause!")).to_be_visible()
        p.wait_for_function("() => document.querySelector('audio').duration > 0")
    assert len(connections) == 2, "one reconnect after the drop"
    job_api = polling_url.replace(base, f"{base}/api")
    assert polls and set(polls) <= {job_api, f"{job_api}applause.wav/"}
    expect(page.locator("[data-ref=progress-text]")).to_have_text("6/6 claps (100%)")
    expect(polling.locator("[data-ref=progress-text]")).to_have_text("3/3 claps (100%)")
    assert errors == [] and polling_errors == []
    dropping.close()
    blocked.close()
