"""An owner's feed over one WebSocket: /ws/claps/ carries the live events of all the
caller's jobs, from the moment it opens, and stays open. It begins with the newest
event this process relayed of each of the owner's latest jobs (RECENT_PER_FEED).

A page or client that opens its feed before submitting sees every job's events
live, however fast the job is: a job's own socket (/ws/claps/<id>/) can only open
once the job exists, and a fast job may be final by then (its snapshot says so). One
feed also replaces a handshake per job. The messages are those of a job's socket
(`status`, `progress`, `done`, `failed`, `cancelled`, each with the job's `id` and
`seq`); there is no snapshot from the database (the API lists the jobs) and no queue
position.

Only a caller with an owner gets in: a signed-in user, or a session that has made a
request of the site (4403 otherwise). The feed counts against the session's sockets.
"""

import asyncio
import math
from collections import OrderedDict

from webapp.claps.owners import ADOPTED_FEEDS_KEY, feed_of
from webapp.realtime.consumers import FORBIDDEN, TOO_MANY, OwnedSocket
from webapp.realtime.events import feed_group_of, is_final
from webapp.realtime.lookups import socket_lookup

REMEMBER = 1_000  # jobs whose newest seq the feed keeps, to drop stale events


class OwnerFeedConsumer(OwnedSocket):
    feeds: tuple[str, ...] = ()  # the owner's, then those of anonymous owners it adopted
    relay = None

    async def connect(self):
        relay = await self._relay()
        owner, adopted = await self._who()
        if owner is None:
            await self._refuse(FORBIDDEN)
            return
        if self._over_cap():
            await self._refuse(TOO_MANY)
            return
        self._count_in()
        self.feeds, self.relay = (feed_of(owner), *adopted), relay
        self._newest: OrderedDict[str, float] = OrderedDict()  # job -> seq; inf once final
        self._held: set[asyncio.Task] = set()  # done events waiting for their applause
        # Watched and joined before the handshake completes: a job submitted once the
        # client sees the socket open has every event relayed here.
        for feed in self.feeds:
            relay.watch(feed)
            await self.channel_layer.group_add(feed_group_of(feed), self.channel_name)
        self.group = feed_group_of(self.feeds[0])  # the one the base class leaves
        await self.accept()
        # A page reads its jobs from the database, then opens its feed: an event relayed
        # in between reached no feed, and the recorder may not have written it yet. The
        # relay's memory closes that gap, as it does a job socket's.
        for message in relay.recent(self.feeds):
            await self.clap_event({"message": message})

    async def clap_event(self, event):
        message = event["message"]
        job = message["id"]
        if message["seq"] <= self._newest.get(job, -1):
            return
        self._newest[job] = math.inf if is_final(message) else message["seq"]
        self._newest.move_to_end(job)
        while len(self._newest) > REMEMBER:
            self._newest.popitem(last=False)
        if message["type"] == "done":
            # Held in its own task: one job's wait must not delay the others' events.
            task = asyncio.create_task(self._send_when_stored(message))
            self._held.add(task)
            task.add_done_callback(self._held.discard)
        else:
            await self.send_json(message)

    async def _send_when_stored(self, message: dict) -> None:
        await self._wait_for_applause(message["id"])
        await self.send_json(message)

    async def disconnect(self, code):
        for task in getattr(self, "_held", ()):
            task.cancel()
        feeds, self.feeds = self.feeds, ()
        for feed in feeds:
            self.relay.unwatch(feed)
        for feed in feeds[1:]:
            await self.channel_layer.group_discard(feed_group_of(feed), self.channel_name)
        await super().disconnect(code)

    @socket_lookup
    def _who(self) -> tuple[str | None, list[str]]:
        return self._caller(), list(self.scope["session"].get(ADOPTED_FEEDS_KEY, []))
