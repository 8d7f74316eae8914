"""/ws/claps/, an owner's feed, against the real broker: who gets in, and every job's
events live from the moment it opens."""

import asyncio

import pytest
from channels.db import database_sync_to_async as db
from channels.layers import get_channel_layer
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.db import OperationalError
from django.test import Client

from tests.support.sockets import (
    Events,
    close_code,
    connected,
    feed,
    feed_opened,
    new_job,
    new_owner,
    store_applause,
)
from webapp.claps.models import ClapJob, Status
from webapp.claps.owners import feed_of
from webapp.realtime import consumers
from webapp.realtime.events import group_of
from webapp.realtime.relay import start_relay

pytestmark = [pytest.mark.kafka, pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def test_a_feed_opened_before_the_job_gets_its_events_live_and_stays_open(isolated_kafka):
    key, owner = await db(new_owner)()
    _, stranger = await db(new_owner)()
    ws = await feed_opened(key)
    try:
        job = await db(new_job)(owner)  # submitted after the feed opened
        others = await db(new_job)(stranger)
        other_worker = Events(isolated_kafka, others.id, feed=feed_of(stranger))
        worker = Events(isolated_kafka, job.id, feed=feed_of(owner))
        other_worker.emit(other_worker.running())
        await db(store_applause)(job.id)
        running, _, done = worker.emit(worker.running(), worker.progress(1), worker.done())
        received = [await ws.receive_json_from(timeout=10) for _ in range(3)]

        second = await db(new_job)(owner)
        later = Events(isolated_kafka, second.id)  # naming no feed: the owner is read
        later.emit(later.running())
        after_done = await ws.receive_json_from(timeout=10)
    finally:
        await ws.disconnect()
    assert [(m["type"], m["id"]) for m in received] == [
        ("status", str(job.id)),
        ("progress", str(job.id)),
        ("done", str(job.id)),
    ]
    assert (received[0]["seq"], received[2]["seq"]) == (running.seq, done.seq)
    assert received[2]["result_url"].endswith("/applause.wav/") and "result" not in received[2]
    assert (after_done["id"], after_done["type"]) == (str(second.id), "status")


async def _running_then_progress(ws, kafka, job_id, feed: str) -> list[tuple[str, str]]:
    """A worker's running and progress events of the job, naming `feed`: what the
    socket then receives, as (type, job)."""
    worker = Events(kafka, job_id, feed=feed)
    worker.emit(worker.running(), worker.progress(1))
    received = [await ws.receive_json_from(timeout=10) for _ in range(2)]
    return [(m["type"], m["id"]) for m in received]


async def test_events_naming_their_feed_reach_it_while_the_database_is_away(
    isolated_kafka, monkeypatch
):
    key, owner = await db(new_owner)()
    ws = await feed_opened(key)
    try:
        job = await db(new_job)(owner)

        def unavailable(*args, **kwargs):
            raise OperationalError("the database is restarting")

        monkeypatch.setattr(ClapJob.objects, "filter", unavailable)  # the relay's look-up
        received = await _running_then_progress(ws, isolated_kafka, job.id, feed_of(owner))
    finally:
        await ws.disconnect()
    assert received == [("status", str(job.id)), ("progress", str(job.id))]


def _log_in_from(session_key: str, username: str = "una") -> str:
    """Log in through the site's login view from an anonymous session, as a browser
    does (which adopts its jobs); the signed-in session's key."""
    password = "long-enough-password-2026"
    User.objects.create_user(username, password=password)
    client = Client()
    client.cookies["sessionid"] = session_key
    answer = client.post("/accounts/login/", {"username": username, "password": password})
    assert answer.status_code == 302, answer.content
    return client.cookies["sessionid"].value


async def test_a_job_running_when_its_owner_logs_in_stays_on_their_feed(isolated_kafka):
    key, anon = await db(new_owner)()
    job = await db(new_job)(anon)  # published naming the anonymous owner's feed
    ws = await feed_opened(await db(_log_in_from)(key))
    try:
        assert (await db(lambda: ClapJob.objects.get(id=job.id).owner)()).startswith("user:")
        received = await _running_then_progress(ws, isolated_kafka, job.id, feed_of(anon))
    finally:
        await ws.disconnect()
    assert received == [("status", str(job.id)), ("progress", str(job.id))]


async def test_a_done_waiting_for_its_applause_does_not_hold_back_other_jobs(isolated_kafka):
    key, owner = await db(new_owner)()
    ws = await feed_opened(key)
    try:
        slow, fast = await db(new_job)(owner), await db(new_job)(owner)
        slow_worker, fast_worker = Events(isolated_kafka, slow.id), Events(isolated_kafka, fast.id)
        slow_worker.emit(slow_worker.done())  # its applause is not stored yet
        fast_worker.emit(fast_worker.running())
        first = await ws.receive_json_from(timeout=10)
        await db(store_applause)(slow.id)
        second = await ws.receive_json_from(timeout=10)
    finally:
        await ws.disconnect()
    assert (first["id"], first["type"]) == (str(fast.id), "status")
    assert (second["id"], second["type"]) == (str(slow.id), "done")


async def test_events_after_a_job_is_final_and_stale_ones_are_dropped(isolated_kafka):
    key, owner = await db(new_owner)()
    ws = await feed_opened(key)
    try:
        job, marker = await db(new_job)(owner), await db(new_job)(owner)
        await db(store_applause)(job.id)
        worker = Events(isolated_kafka, job.id)
        stale = worker.progress(1)  # numbered before the running event below
        worker.emit(worker.running(), stale)
        assert (await ws.receive_json_from(timeout=10))["type"] == "status"
        worker.emit(worker.done())
        assert (await ws.receive_json_from(timeout=10))["type"] == "done"
        redelivered = Events(isolated_kafka, job.id)  # a later pickup: higher seqs
        redelivered.emit(redelivered.running())
        marker_worker = Events(isolated_kafka, marker.id)
        marker_worker.emit(marker_worker.running())
        following = await ws.receive_json_from(timeout=10)
    finally:
        await ws.disconnect()
    assert following["id"] == str(marker.id), "nothing of a final job after its end"


def _session_without_owner() -> str:
    session = SessionStore()
    session["seen"] = True
    session.create()
    return session.session_key


@pytest.mark.parametrize("has_session", [True, False])
async def test_a_caller_without_an_owner_is_refused_with_4403(isolated_kafka, has_session):
    key = await db(_session_without_owner)() if has_session else None
    ws = await feed(key)
    accepted, _ = await ws.connect(timeout=15)
    assert accepted
    assert await close_code(ws) == consumers.FORBIDDEN
    await ws.disconnect()


async def test_the_feed_counts_against_the_sessions_sockets(isolated_kafka, monkeypatch):
    monkeypatch.setattr(consumers, "MAX_SOCKETS_PER_SESSION", 1)
    key, owner = await db(new_owner)()
    job = await db(new_job)(owner)
    ws = await feed_opened(key)
    extra = await connected(job.id, key)
    assert await close_code(extra) == consumers.TOO_MANY
    await extra.disconnect()
    second_feed = await feed_opened(key)
    assert await close_code(second_feed) == consumers.TOO_MANY
    await second_feed.disconnect()
    await ws.disconnect()
    again = await feed_opened(key)  # the closed feed's place is free again
    try:
        worker = Events(isolated_kafka, job.id)
        worker.emit(worker.running())
        assert (await again.receive_json_from(timeout=10))["id"] == str(job.id)
    finally:
        await again.disconnect()


async def test_a_feed_begins_with_what_was_relayed_before_it_opened(isolated_kafka):
    """A page reads its jobs, then opens its feed. A job that ended in between, before
    the recorder wrote it, must still reach the feed: from the relay's memory."""
    key, owner = await db(new_owner)()
    stranger_key, _ = await db(new_owner)()
    job = await db(new_job)(owner)
    await db(store_applause)(job.id)
    relay = start_relay()
    await asyncio.wait_for(relay.ready.wait(), 10)
    layer = get_channel_layer()
    listener = await layer.new_channel()
    await layer.group_add(group_of(str(job.id)), listener)
    worker = Events(isolated_kafka, job.id, feed=feed_of(owner))
    _, done = worker.emit(worker.running(), worker.done())
    while (await asyncio.wait_for(layer.receive(listener), 10))["message"]["type"] != "done":
        pass  # relayed: now the feeds open

    ws, strangers = await feed_opened(key), await feed_opened(stranger_key)
    try:
        first = await ws.receive_json_from(timeout=10)
        assert await strangers.receive_nothing(timeout=1)
    finally:
        await ws.disconnect()
        await strangers.disconnect()
    assert (first["type"], first["id"], first["seq"]) == ("done", str(job.id), done.seq)
    assert (await db(ClapJob.objects.get)(id=job.id)).status == Status.QUEUED
