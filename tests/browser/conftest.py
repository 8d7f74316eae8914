from pathlib import Path

import pytest

from tests.realtime.conftest import isolated_kafka, stack  # noqa: F401 - fixtures

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def accessibility(browser):
    """A browser context whose pages carry axe-core; `audit.check(page, name)`."""
    from tests.browser.accessibility import Audit

    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.set_default_timeout(30_000)
    audit = Audit(context)
    yield context, audit
    context.close()
