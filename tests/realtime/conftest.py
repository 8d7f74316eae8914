import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from webapp.realtime.relay import stop_relay


@pytest.fixture(autouse=True)
def fresh_relay():
    """Each test's relay reads its own topics on its own event loop."""
    yield
    stop_relay()
    async_to_sync(get_channel_layer().flush)()
