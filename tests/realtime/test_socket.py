"""/ws/claps/<id>/ against the real broker: who gets in, the snapshot, live events."""

import asyncio
import contextlib
import secrets
import threading

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async as db
from channels.layers import get_channel_layer
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from tests.support.sockets import (
    Events,
    close_code,
    connected,
    feed_opened,
    new_job,
    new_owner,
    socket,
    store_applause,
    until_final,
)
from webapp.claps.models import ClapJob, Status
from webapp.claps.owners import feed_of, user_owner
from webapp.realtime import consumers
from webapp.realtime.events import group_of
from webapp.realtime.relay import start_relay

pytestmark = [pytest.mark.kafka, pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def test_the_owner_gets_the_snapshot_then_live_events(isolated_kafka):
    key, owner = await db(new_owner)()
    job = await db(new_job)(owner, note="bravo")
    ws = await connected(job.id, key)
    try:
        snapshot = await ws.receive_json_from(timeout=5)
        assert snapshot["type"] == "snapshot"
        assert (snapshot["id"], snapshot["status"], snapshot["seq"]) == (str(job.id), "queued", 0)
        assert snapshot["note"] == "bravo"
        assert snapshot["progress"] == {"done": 0, "total": 3}

        worker = Events(isolated_kafka, job.id)
        running, *_ = worker.emit(worker.running(partition=2, offset=11), worker.progress(1))
        await db(store_applause)(job.id)
        worker.emit(worker.progress(2), worker.progress(3), worker.done())
        received = await until_final(ws)
    finally:
        await ws.disconnect()

    assert received[0] == {
        "type": "status",
        "seq": running.seq,
        "at": running.at,
        "id": str(job.id),
        "status": "running",
        "worker": "worker-7",
        "progress": {"done": 0, "total": 3},
        "partition": 2,
        "offset": 11,
    }
    assert [m["type"] for m in received[1:-1]] == ["progress"] * (len(received) - 2)
    seqs = [m["seq"] for m in received]
    assert seqs == sorted(set(seqs))
    done = received[-1]
    assert done["type"] == "done" and done["result_url"].endswith("/applause.wav/")
    assert "result" not in done


async def test_a_fast_job_is_coalesced_but_its_end_always_arrives(isolated_kafka):
    key, owner = await db(new_owner)()
    job = await db(new_job)(owner, claps=100)
    ws = await connected(job.id, key)
    try:
        await ws.receive_json_from(timeout=5)
        worker = Events(isolated_kafka, job.id, total=100)
        await db(store_applause)(job.id)
        worker.emit(worker.running(), *(worker.progress(n) for n in range(1, 101)), worker.done())
        received = await until_final(ws)
    finally:
        await ws.disconnect()
    progress = [m for m in received if m["type"] == "progress"]
    assert len(progress) < 10, "100 progress events in a burst must not reach the socket"
    assert received[-1]["type"] == "done"


async def test_others_are_refused_with_4403(isolated_kafka):
    _, owner = await db(new_owner)()
    stranger, _ = await db(new_owner)()
    job = await db(new_job)(owner)
    for session in (stranger, None):
        ws = await socket(job.id, session)
        accepted, _ = await ws.connect(timeout=5)
        assert accepted
        assert await close_code(ws) == consumers.FORBIDDEN
        await ws.disconnect()


def _signed_in_owner() -> tuple[str, str, object]:
    """A user's session as the login view leaves it: (session key, owner key, user)."""
    user = get_user_model().objects.create_user(f"u{secrets.token_hex(4)}", password="pw-1-pw")
    client = Client()
    client.force_login(user)
    return client.session.session_key, user_owner(user), user


async def test_a_signed_in_owner_gets_in_until_the_password_changes(isolated_kafka):
    key, owner, user = await db(_signed_in_owner)()
    job = await db(new_job)(owner)
    ws = await connected(job.id, key)
    assert (await ws.receive_json_from(timeout=10))["id"] == str(job.id)
    await ws.disconnect()

    def change_password():
        user.set_password("pw-2-pw")
        user.save()

    await db(change_password)()  # the session's auth hash no longer matches
    ws = await socket(job.id, key)
    accepted, _ = await ws.connect(timeout=5)
    assert accepted
    assert await close_code(ws) == consumers.FORBIDDEN
    await ws.disconnect()


@pytest.mark.parametrize("job_id", ["2b1f4a52-0d6e-4b8e-9a38-6f0c2d1e7a90", "not-a-uuid"])
async def test_unknown_and_malformed_ids_are_refused_with_4404(isolated_kafka, job_id):
    key, _ = await db(new_owner)()
    ws = await socket(job_id, key)
    accepted, _ = await ws.connect(timeout=5)
    assert accepted
    assert await close_code(ws) == consumers.NOT_FOUND
    await ws.disconnect()


async def test_another_origin_is_refused_at_the_handshake(isolated_kafka):
    key, owner = await db(new_owner)()
    job = await db(new_job)(owner)
    ws = await socket(job.id, key, origin=b"https://elsewhere.example")
    accepted, _ = await ws.connect(timeout=5)
    assert not accepted
    await ws.disconnect()


async def test_a_late_join_gets_the_finished_job_and_is_closed(isolated_kafka):
    key, owner = await db(new_owner)()
    job = await db(new_job)(owner, status=Status.DONE, done=3, last_seq=42_000)
    await db(store_applause)(job.id)
    ws = await connected(job.id, key)
    try:
        snapshot = await ws.receive_json_from(timeout=5)
        assert await close_code(ws) == 1000
    finally:
        await ws.disconnect()
    assert (snapshot["status"], snapshot["seq"]) == ("done", 42_000)
    assert snapshot["result_url"].endswith("/applause.wav/")


async def test_a_reconnect_in_the_middle_gets_a_fresh_snapshot_then_the_rest(isolated_kafka):
    key, owner = await db(new_owner)()
    job = await db(new_job)(owner)
    worker = Events(isolated_kafka, job.id)
    ws = await connected(job.id, key)
    await ws.receive_json_from(timeout=5)
    worker.emit(worker.running())
    assert (await ws.receive_json_from(timeout=10))["type"] == "status"
    await ws.disconnect()

    [missed] = worker.emit(worker.progress(1))  # while away; the recorder writes it down
    await db(ClapJob.objects.filter(id=job.id).update)(
        status=Status.RUNNING, done=1, last_seq=missed.seq, worker="worker-7"
    )
    ws = await connected(job.id, key)
    try:
        snapshot = await ws.receive_json_from(timeout=5)
        assert (snapshot["type"], snapshot["seq"]) == ("snapshot", missed.seq)
        assert snapshot["progress"] == {"done": 1, "total": 3}
        await db(store_applause)(job.id)
        worker.emit(worker.progress(2), worker.done())
        received = await until_final(ws)
    finally:
        await ws.disconnect()
    assert [m["type"] for m in received][-1] == "done"
    assert all(m["seq"] > missed.seq for m in received)


async def test_a_final_event_between_join_and_snapshot_is_not_lost(isolated_kafka):
    """The relay saw `done` before the socket joined, and the recorder has not written
    it yet: the snapshot is behind, so the socket also gets what the relay remembers."""
    key, owner = await db(new_owner)()
    job = await db(new_job)(owner, status=Status.RUNNING, last_seq=1)
    relay = start_relay()
    await asyncio.wait_for(relay.ready.wait(), 10)
    worker = Events(isolated_kafka, job.id)
    await db(store_applause)(job.id)
    layer = get_channel_layer()
    listener = await layer.new_channel()
    await layer.group_add(group_of(str(job.id)), listener)
    worker.emit(worker.done())
    relayed = await asyncio.wait_for(layer.receive(listener), 10)
    assert relayed["message"]["type"] == "done"
    assert relay.latest(str(job.id))["type"] == "done"
    ws = await connected(job.id, key)
    try:
        received = [await ws.receive_json_from(timeout=5)] + await until_final(ws)
    finally:
        await ws.disconnect()
    assert [(m["type"], m["status"]) for m in received] == [
        ("snapshot", "running"),
        ("done", "done"),
    ]


async def test_a_socket_never_waits_for_the_process_sync_thread(isolated_kafka):
    """Channels' consumers pass through the process's one thread-sensitive executor
    before every message; held busy here, a socket still opens, gets its events and
    closes."""
    key, owner = await db(new_owner)()
    job = await db(new_job)(owner)
    worker = Events(isolated_kafka, job.id)
    await db(store_applause)(job.id)
    held = threading.Event()
    busy = asyncio.create_task(sync_to_async(held.wait)())  # thread-sensitive by default
    try:
        ws = await connected(job.id, key)
        try:
            assert (await ws.receive_json_from(timeout=5))["type"] == "snapshot"
            worker.emit(worker.running(), worker.done())
            received = await until_final(ws)
        finally:
            await ws.disconnect(timeout=5)
        assert not ws.future.cancelled()  # it ended by itself, not cut off by the timeout
        assert not busy.done()
    finally:
        held.set()
        await busy
    assert received[-1]["type"] == "done"


async def test_a_session_holds_a_limited_number_of_sockets(isolated_kafka, monkeypatch):
    monkeypatch.setattr(consumers, "MAX_SOCKETS_PER_SESSION", 2)
    key, owner = await db(new_owner)()
    job = await db(new_job)(owner)
    first, second = await connected(job.id, key), await connected(job.id, key)
    extra = await connected(job.id, key)
    assert await close_code(extra) == consumers.TOO_MANY
    await extra.disconnect()
    await first.disconnect()
    again = await connected(job.id, key)
    assert (await again.receive_json_from(timeout=5))["type"] == "snapshot"
    await again.disconnect()
    await second.disconnect()


async def test_a_queued_job_is_told_its_place_in_line(isolated_kafka):
    key, owner = await db(new_owner)()
    # Offset 13 with nothing committed by the workers: 13 messages ahead of it.
    job = await db(new_job)(owner, partition=1, offset=13)
    ws = await connected(job.id, key)
    try:
        assert (await ws.receive_json_from(timeout=5))["type"] == "snapshot"
        position = await ws.receive_json_from(timeout=10)
        assert position == {
            "type": "position",
            "seq": 0,
            "id": str(job.id),
            "partition": 1,
            "offset": 13,
            "position": 13,
        }
        worker = Events(isolated_kafka, job.id)
        worker.emit(worker.running(partition=1, offset=13))
        assert (await ws.receive_json_from(timeout=10))["type"] == "status"
        assert await ws.receive_nothing(timeout=consumers.POSITION_EVERY + 0.5)
    finally:
        await ws.disconnect()


async def test_what_a_client_sends_is_ignored_and_its_socket_goes_on(isolated_kafka, monkeypatch):
    monkeypatch.setattr(consumers, "MAX_SOCKETS_PER_SESSION", 1)
    key, owner = await db(new_owner)()
    job = await db(new_job)(owner)
    ws = await connected(job.id, key)
    assert (await ws.receive_json_from(timeout=5))["type"] == "snapshot"
    await ws.send_to(bytes_data=b"\x00")
    await ws.send_to(text_data="not json")
    worker = Events(isolated_kafka, job.id)
    worker.emit(worker.running())
    assert (await ws.receive_json_from(timeout=10))["type"] == "status"
    await ws.disconnect()
    again = await connected(job.id, key)  # the session's one socket was given back
    assert (await again.receive_json_from(timeout=5))["type"] == "snapshot"
    await again.disconnect()


@pytest.mark.parametrize("path", ["job", "feed"])
async def test_a_socket_the_server_cancels_gives_back_its_place(isolated_kafka, monkeypatch, path):
    """daphne cancels a socket still running 10 s after its client left (one holding
    `done` for its applause, say); Channels then skips disconnect()."""
    monkeypatch.setattr(consumers, "MAX_SOCKETS_PER_SESSION", 1)
    key, owner = await db(new_owner)()
    job = await db(new_job)(owner)
    opened = await (connected(job.id, key) if path == "job" else feed_opened(key))
    opened.future.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await opened.future
    if path == "feed":
        assert feed_of(owner) not in start_relay()._watched
    again = await connected(job.id, key)
    assert (await again.receive_json_from(timeout=5))["type"] == "snapshot"
    await again.disconnect()


def _log_out(session_key: str) -> None:
    SessionStore(session_key).delete()  # what the logout view does to the session


@pytest.mark.parametrize("path", ["job", "feed"])
async def test_a_socket_is_closed_once_its_session_has_logged_out(
    isolated_kafka, monkeypatch, path
):
    """Whoever uses the browser next must not go on seeing the owner's jobs."""
    monkeypatch.setattr(consumers, "SESSION_CHECK", 0.2)
    key, owner, _ = await db(_signed_in_owner)()
    job = await db(new_job)(owner)
    ws = await (connected(job.id, key) if path == "job" else feed_opened(key))
    if path == "job":
        assert (await ws.receive_json_from(timeout=5))["type"] == "snapshot"
    worker = Events(isolated_kafka, job.id)
    worker.emit(worker.running())  # the session still holds: events flow
    assert (await ws.receive_json_from(timeout=10))["type"] == "status"
    await db(_log_out)(key)
    assert await close_code(ws) == consumers.SESSION_CHANGED
    await ws.disconnect()
