import os
import shutil
import tempfile
from pathlib import Path

import pytest

from streams.config import kafka_config
from tests.support.browser import ARTIFACTS, CHROMIUM_ARGS, find_chromium
from tests.support.pipeline import Stack, env_for
from tests.support.postgres import pool_in_use
from tools.broker.process import LocalBroker
from tools.ports import free_port
from tools.sandbox import private_kafka

# The image tests need the built image (minutes to build): `make image-test` builds it
# and runs them; `make test` leaves them out.
collect_ignore = [] if os.environ.get("CLAPSTREAM_IMAGE_TESTS") else ["image"]


def pytest_sessionfinish(session):
    """What tests/settings.py made for this run goes with it: the throttles' cache
    directory (unless CLAPSTREAM_TEST_CACHE named another), and the SQLite test
    database's -wal and -shm files, which outlive the database when a connection to
    it was still open as it was deleted."""
    from django.conf import settings

    pid = os.getpid()
    location = Path(settings.CACHES["default"]["LOCATION"])
    if location.name == f"test-cache-{pid}":
        shutil.rmtree(location, ignore_errors=True)
    for leftover in settings.VAR_DIR.glob(f"test-{pid}.sqlite3-*"):
        leftover.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def kafka_broker():
    """One real broker per test session: private (own ports, temporary data) unless
    KAFKA_BOOTSTRAP_SERVERS pointed the run at an existing cluster (then None)."""
    if os.environ.get("CLAPSTREAM_TEST_BROKER") != "private":
        yield None
        return
    data = Path(tempfile.mkdtemp(prefix="clapstream-test-broker-"))
    port = int(kafka_config().bootstrap_servers.rsplit(":", 1)[1])
    broker = LocalBroker(data_dir=data, port=port, controller_port=free_port(), tied=True)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def kafka(kafka_broker):
    """The project's Kafka configuration, with the broker up."""
    return kafka_config()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle histories live in the cache; no test inherits another's."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_pool():
    """On PostgreSQL a test whose threads kept connections leaves a new pool behind.
    Channels' test communicator turns off the closing of connections (to keep a test's
    transaction), so the threads of an async socket test keep theirs when the test
    ends: without this the pool runs dry a few such tests later."""
    yield
    from django.db import connection

    # Django's pools by alias, where one was made (`connection.pool` would make one).
    if connection.alias in getattr(connection, "_connection_pools", {}):
        connection.close()
        if pool_in_use():
            connection.close_pool()


@pytest.fixture
def fake_publisher(monkeypatch):
    """The site's publisher replaced by a fake that only remembers (no Kafka)."""
    from tests.fakes import FakePublisher

    fake = FakePublisher()
    monkeypatch.setattr("webapp.claps.services.publisher", lambda: fake)
    return fake


@pytest.fixture
def isolated_kafka(kafka, settings):
    """Topics and groups of this test alone, for the site and its subprocesses."""
    from webapp.claps.publisher import reset_publisher

    config = private_kafka(kafka, partitions=4)
    settings.KAFKA = config
    reset_publisher()
    yield config
    reset_publisher()


@pytest.fixture
def stack(isolated_kafka, settings, transactional_db):
    """The pipeline's processes (recorder, workers) of this test, stopped after it."""
    s = Stack(env_for(isolated_kafka))
    yield s
    s.stop()
    print(s.log.getvalue()[-20000:])  # shown by pytest when the test failed


@pytest.fixture
def browser():
    from playwright import sync_api

    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def accessibility(browser):
    """A phone-sized browser context whose pages carry axe-core; `audit.check(page, name)`."""
    from tests.support.accessibility import Audit

    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.set_default_timeout(30_000)
    audit = Audit(context)
    yield context, audit
    context.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def spans():
    """Every span this process finishes, caught by an in-memory exporter."""
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from streams import tracing

    exporter = InMemorySpanExporter()
    tracing.use_exporter(exporter, "test")
    yield exporter
    tracing.disable()
