"""The web process starts its Kafka clients with the first connection it takes."""

import pytest
from channels.testing import HttpCommunicator

from webapp.asgi import application
from webapp.claps.publisher import publisher, reset_publisher
from webapp.realtime import relay

pytestmark = [pytest.mark.kafka, pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def test_the_first_request_starts_the_relay_and_the_publisher(isolated_kafka):
    reset_publisher()
    relay.stop_relay()
    assert publisher.cache_info().currsize == 0
    request = HttpCommunicator(application, "GET", "/healthz", headers=[(b"host", b"127.0.0.1")])
    response = await request.get_response(timeout=10)
    assert response["status"] == 200
    assert publisher.cache_info().currsize == 1
    assert relay._relay is not None
    await relay._relay.ready.wait()  # reading the events topic
