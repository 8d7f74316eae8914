import asyncio

from streams.config import kafka_config
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
