"""The in-memory layer sweeps out expired entries once a second, not on every call."""

import pytest

from webapp.realtime.layers import InMemoryChannelLayer

pytestmark = pytest.mark.asyncio
CHANNEL = "specific.inmemory!abc"


async def test_expired_entries_go_at_the_next_sweep_not_before():
    layer = InMemoryChannelLayer(expiry=-1)  # every message is expired once sent
    await layer.group_add("clap-x", CHANNEL)
    await layer.group_send("clap-x", {"type": "clap.event"})  # sweeps, then sends
    await layer.group_send("clap-x", {"type": "clap.event"})  # within the second: no sweep
    assert CHANNEL in layer.groups["clap-x"]

    layer._next_sweep = 0.0  # a second later
    await layer.group_send("clap-x", {"type": "clap.event"})
    assert layer.channels == {}
    assert layer.groups == {"clap-x": {}}
