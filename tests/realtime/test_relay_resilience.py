import asyncio

import pytest
from django.db import OperationalError

from streams.config import kafka_config
from webapp.claps.models import ClapJob
from webapp.realtime.relay import Relay


def test_a_failing_step_is_logged_and_the_relay_carries_on(caplog):
    loop = asyncio.new_event_loop()
    try:
        relay = Relay(kafka_config(), loop, layer=None)
        relay._stopping.set()  # no pause between attempts in this test
        calls = []

        def step(consumer):
            calls.append(consumer)
            raise ValueError("bad batch")

        relay._step = step
        relay._guarded_step("consumer")
        relay._guarded_step("consumer")
    finally:
        loop.close()
    assert calls == ["consumer", "consumer"]
    assert "relay step failed" in caplog.text and "bad batch" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_owners_it_could_not_read_are_asked_for_again(caplog, monkeypatch):
    """A feed misses the events of a batch whose owners the database did not give,
    and the relay asks again with the next events of those jobs."""
    job = ClapJob.objects.create(owner="anon:feed", claps=1)
    loop = asyncio.new_event_loop()
    try:
        relay = Relay(kafka_config(), loop, layer=None)
        real = ClapJob.objects.filter

        def unavailable(*args, **kwargs):
            raise OperationalError("the database is restarting")

        monkeypatch.setattr(ClapJob.objects, "filter", unavailable)
        assert relay._owners([str(job.id)]) == {}
        monkeypatch.setattr(ClapJob.objects, "filter", real)
        assert relay._owners([str(job.id)]) == {str(job.id): "anon:feed"}
    finally:
        loop.close()
    assert "relay could not read the owners of 1 jobs" in caplog.text
