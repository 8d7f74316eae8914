"""A visitor's whole journey in headless Chromium against daphne, a recorder and a
worker over real Kafka: submit, watch it live, get the applause."""

import re

import pytest

from tests.realtime.conftest import start_web

pytestmark = [pytest.mark.kafka, pytest.mark.browser]
PHONE = {"width": 390, "height": 844}


def console_errors(page) -> list[str]:
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def test_submit_watch_and_hear_the_applause(stack, browser, artifacts):
    from playwright.sync_api import expect

    stack.recorder()
    stack.worker("worker-2", CLAP_WORK_MS="250")
    base = start_web(stack)

    visitor = browser.new_context(viewport=PHONE)
    visitor.set_default_timeout(30_000)
    page = visitor.new_page()
    errors = console_errors(page)

    page.goto(f"{base}/")
    expect(page.get_by_role("heading", name="Your recent claps")).to_be_visible()
    page.screenshot(path=artifacts / "home.png", full_page=True)
    page.get_by_label("Number of claps").fill("5")
    page.get_by_label("Note (optional)").fill("bravo, browser")
    page.get_by_role("button", name="Clap!").click()
    page.wait_for_url(re.compile(r"/claps/[0-9a-f-]{36}/$"))
    job_url = page.url
    page.evaluate("window.sameDocument = true")

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
    log = page.locator("[data-ref=log]")
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
