import os
import shutil
import tempfile
from pathlib import Path

import pytest

from streams.config import kafka_config
from tools.broker.process import LocalBroker
from tools.ports import free_port

# The image tests need the built image (minutes to build): `make image-test` builds it
# and runs them; `make test` leaves them out.
collect_ignore = [] if os.environ.get("CLAPSTREAM_IMAGE_TESTS") else ["image"]


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


@pytest.fixture
def fake_publisher(monkeypatch):
    """The site's publisher replaced by a fake that only remembers (no Kafka)."""
    from tests.fakes import FakePublisher

    fake = FakePublisher()
    monkeypatch.setattr("webapp.claps.services.publisher", lambda: fake)
    return fake
