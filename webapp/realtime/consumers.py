"""The live view of one clap job over a WebSocket: /ws/claps/<id>/.

Only the job's owner gets in (4403 for others, 4404 for ids that name no job), and a
session holds at most MAX_SOCKETS_PER_SESSION sockets in this process (4429 beyond;
an owner's feed, webapp.realtime.feed, counts too). A socket gets one snapshot from
the database, then the relayed events of its job, and is closed by the server once
the job is final.
"""

import asyncio
import logging
import uuid
from collections import Counter
from importlib import import_module

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib import auth

from webapp.claps.models import FINAL_STATUSES, ClapJob, Status
from webapp.claps.owners import known_owner_of
from webapp.realtime import positions
from webapp.realtime.events import group_of, is_final, position_message, snapshot_of
from webapp.realtime.lookups import socket_lookup
from webapp.realtime.relay import start_relay
from webapp.realtime.stored import stored_applause

log = logging.getLogger(__name__)
FORBIDDEN, NOT_FOUND, TOO_MANY = 4403, 4404, 4429
MAX_SOCKETS_PER_SESSION = 20
POSITION_EVERY = 2.0  # seconds between queue positions while the job waits
RELAY_WAIT = 5.0  # how long a connect waits for a relay that is still starting
APPLAUSE_WAIT = 15.0  # how long `done` waits for the recorder to store the audio
# A socket is the owner's only while its session is: after a logout (or a login, which
# gives the session a new key) it is closed within this many seconds, with
# SESSION_CHANGED, on which a page connects again as whoever its cookie now names.
SESSION_CHECK = 10.0
SESSION_CHANGED = 4401

_open_per_session: Counter[str] = Counter()


class OwnedSocket(AsyncJsonWebsocketConsumer):
    """What the sockets of an owner share: the relay, the per-session cap, refusals."""

    group: str | None = None
    session_key: str | None = None
    owner: str | None = None
    counted: bool = False
    session_watch: asyncio.Task | None = None

    # Channels closes stale database connections before every message a consumer
    # handles and after its disconnect, through the process's one thread-sensitive
    # executor: every event of every socket would queue for that one thread, a hop
    # there and back each. These sockets use the database only in socket_lookup calls,
    # which close their own connection, so the two methods below skip that step.

    async def dispatch(self, message):
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"no handler for message type {message['type']}")
        await handler(message)

    async def websocket_disconnect(self, message):
        await self.disconnect(message["code"])  # these consumers keep no `groups` list
        raise StopConsumer()

    async def __call__(self, scope, receive, send):
        # disconnect() gives back the socket's place in its session, its groups and
        # tasks, and Channels calls it only on the client's disconnect. A socket can
        # also end by an exception in a handler, or by daphne cancelling it (a socket
        # holding `done` for its applause when its client left): then here.
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.disconnect(1011)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """Clients have nothing to say on these sockets. What one sends anyway is
        ignored: Channels' JSON decoding would raise on it and end the socket."""

    async def _relay(self):
        relay = start_relay()
        try:
            await asyncio.wait_for(relay.ready.wait(), RELAY_WAIT)
        except TimeoutError:
            log.warning("relay not reading yet; a socket starts without it")
        return relay

    def _over_cap(self) -> bool:
        return _open_per_session[self.session_key] >= MAX_SOCKETS_PER_SESSION

    def _count_in(self) -> None:
        _open_per_session[self.session_key] += 1  # before any await: the cap holds
        self.counted = True
        self.session_watch = asyncio.create_task(self._while_the_session_holds())

    async def _while_the_session_holds(self) -> None:
        while True:
            await asyncio.sleep(SESSION_CHECK)
            if await self._session_owner() != self.owner:
                await self.close(code=SESSION_CHANGED)
                return

    @socket_lookup
    def _session_owner(self) -> str | None:
        """The owner the socket's session speaks for now: None once it has ended."""
        return _owner_of(import_module(settings.SESSION_ENGINE).SessionStore(self.session_key))

    async def _refuse(self, code: int) -> None:
        if self.group is not None:  # joined before the check: leave before anything arrives
            await self.channel_layer.group_discard(self.group, self.channel_name)
            self.group = None
        # Accepted first: a close before the handshake completes carries no code.
        await self.accept()
        await self.close(code=code)

    async def disconnect(self, code):
        """Releases what the socket holds; once, however often it is called."""
        if self.session_watch is not None:
            self.session_watch.cancel()
        if self.group is not None:
            group, self.group = self.group, None
            await self.channel_layer.group_discard(group, self.channel_name)
        if self.counted:
            self.counted = False
            _open_per_session[self.session_key] -= 1
            if _open_per_session[self.session_key] <= 0:
                del _open_per_session[self.session_key]

    def _caller(self) -> str | None:
        """The owner the socket's session speaks for (call in a socket_lookup)."""
        session = self.scope["session"]
        self.session_key = session.session_key
        self.owner = _owner_of(session)
        return self.owner

    async def _wait_for_applause(self, job_id: str) -> None:
        # The relay is faster than the recorder: hold `done` until its URL answers.
        await stored_applause().wait(job_id, APPLAUSE_WAIT)


class ClapJobConsumer(OwnedSocket):
    job_id: str | None = None
    position_task: asyncio.Task | None = None
    seq = -1
    status = ""
    partition: int | None = None
    offset: int | None = None

    async def connect(self):
        self.job_id = _job_id(self.scope["url_route"]["kwargs"]["job_id"])
        if self.job_id is None:
            await self._refuse(NOT_FOUND)
            return
        relay = await self._relay()
        # Join before reading the snapshot: an event after this point reaches us, one
        # before it is in the snapshot or the relay's memory of the job.
        self.group = group_of(self.job_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        refusal, snapshot = await self._admit()  # one database call
        if refusal is None and self._over_cap():
            refusal = TOO_MANY
        if refusal is not None:
            await self._refuse(refusal)
            return
        self._count_in()
        await self.accept()
        self.partition, self.offset = snapshot["partition"], snapshot["offset"]
        await self._deliver(snapshot)
        newer = relay.latest(self.job_id)
        if newer is not None:
            await self._deliver(newer)
        if self.status == Status.QUEUED:
            self.position_task = asyncio.create_task(self._report_position())

    async def clap_event(self, event):
        if self.counted:  # never to a socket that was refused
            await self._deliver(event["message"])

    async def disconnect(self, code):
        if self.position_task is not None:
            self.position_task.cancel()
        await super().disconnect(code)

    async def _deliver(self, message: dict) -> None:
        """Send a message unless it is stale; close the socket after a final one."""
        if self.status in FINAL_STATUSES:
            return
        if message["type"] != "snapshot" and message["seq"] <= self.seq:
            return
        if message["type"] == "done":
            await self._wait_for_applause(self.job_id)
        self.seq, self.status = max(self.seq, message["seq"]), message["status"]
        await self.send_json(message)
        if is_final(message):
            await self.close()

    async def _report_position(self) -> None:
        while self.status == Status.QUEUED:
            if self.partition is None:
                self.partition, self.offset = await self._published_place()
            if self.partition is not None:
                ahead = await positions.position(self.partition, self.offset)
                if ahead is not None and self.status == Status.QUEUED:
                    await self.send_json(
                        position_message(self.job_id, self.seq, self.partition, self.offset, ahead)
                    )
            await asyncio.sleep(POSITION_EVERY)

    @socket_lookup
    def _admit(self) -> tuple[int | None, dict | None]:
        """(refusal, None) for a caller who may not watch the job, else (None, snapshot).

        The signed-in user is read here, with the job, in one call (rather than by
        Channels' AuthMiddleware on the views' thread)."""
        owner = self._caller()
        try:
            job = ClapJob.objects.get(id=self.job_id)
        except ClapJob.DoesNotExist:
            return NOT_FOUND, None
        if owner != job.owner:
            return FORBIDDEN, None
        return None, snapshot_of(job)

    @socket_lookup
    def _published_place(self) -> tuple[int | None, int | None]:
        place = ClapJob.objects.filter(id=self.job_id).values_list("partition", "offset").first()
        return place or (None, None)


def _owner_of(session) -> str | None:
    return known_owner_of(session, auth.get_user(_SessionOnly(session)))


class _SessionOnly:
    """What django.contrib.auth.get_user reads of a request: its session."""

    def __init__(self, session):
        self.session = session


def _job_id(raw: str) -> str | None:
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        return None
