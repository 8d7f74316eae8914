import asyncio
import threading

import pytest
from channels.db import database_sync_to_async as db
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import OperationalError

from streams.config import kafka_config
from tests.support.postgres import on_postgres, pool_in_use
from tests.support.sockets import Events, new_job
from webapp.claps.models import ClapJob
from webapp.claps.owners import feed_of
from webapp.realtime.events import feed_group_of, group_of
from webapp.realtime.relay import MAX_PENDING, Relay


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
        assert relay._stored_feeds({str(job.id)}) == {}
        monkeypatch.setattr(ClapJob.objects, "filter", real)
        assert relay._stored_feeds({str(job.id)}) == {str(job.id): feed_of("anon:feed")}
    finally:
        loop.close()
    assert "relay could not read the owners of 1 jobs" in caplog.text


@on_postgres
@pytest.mark.kafka
@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_stopped_relay_gives_its_connection_back_to_the_pool(isolated_kafka):
    job = await db(new_job)("anon:feed")
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(feed_group_of(feed_of("anon:feed")), channel)
    relay = Relay(isolated_kafka, asyncio.get_running_loop(), layer)
    relay.watch(feed_of("anon:feed"))
    relay.start()
    try:
        await asyncio.wait_for(relay.ready.wait(), 30)
        worker = Events(isolated_kafka, job.id)  # naming no feed: the owner is read
        worker.emit(worker.running())
        relayed = await asyncio.wait_for(layer.receive(channel), 10)
        assert relayed["message"]["id"] == str(job.id)
        assert await db(pool_in_use)() == 1  # the relay thread's
    finally:
        await asyncio.to_thread(relay.stop)
    assert await db(pool_in_use)() == 0


def test_the_relay_waits_for_an_event_loop_that_is_behind():
    """Batches handed to the loop and not delivered are bounded: with the loop busy,
    the relay thread waits (Kafka keeps the events) instead of piling them up."""
    loop = asyncio.new_event_loop()
    serving = threading.Thread(target=loop.run_forever)
    serving.start()
    busy, release = threading.Event(), threading.Event()
    handed = []
    try:
        relay = Relay(kafka_config(), loop, InMemoryChannelLayer())
        loop.call_soon_threadsafe(lambda: (busy.set(), release.wait()))
        assert busy.wait(5)

        def hand_over(n):
            for i in range(n):
                relay._hand_over([({"id": f"job-{i}", "seq": i, "type": "status"}, None)])
                handed.append(i)

        relay_thread = threading.Thread(target=hand_over, args=(MAX_PENDING + 1,))
        relay_thread.start()
        relay_thread.join(timeout=2)  # long enough to hand over all of them, were it free
        assert relay_thread.is_alive() and len(handed) == MAX_PENDING
        release.set()
        relay_thread.join(timeout=10)
        assert not relay_thread.is_alive() and len(handed) == MAX_PENDING + 1
    finally:
        release.set()
        loop.call_soon_threadsafe(loop.stop)
        serving.join(5)
        loop.close()


@pytest.mark.kafka
@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_relay_that_reads_late_relays_what_came_since_it_was_created(isolated_kafka):
    """A web process that starts while Kafka is away serves sockets before its relay
    reads: what happened in between must still reach them."""
    job = await db(new_job)("anon:late")
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(group_of(str(job.id)), channel)
    relay = Relay(isolated_kafka, asyncio.get_running_loop(), layer)  # the process starts
    worker = Events(isolated_kafka, job.id)
    worker.emit(worker.running())  # before the relay could read
    relay.start()
    try:
        relayed = await asyncio.wait_for(layer.receive(channel), 10)
        assert (relayed["message"]["id"], relayed["message"]["type"]) == (str(job.id), "status")
    finally:
        await asyncio.to_thread(relay.stop)
