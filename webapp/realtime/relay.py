"""The relay: every web process reads all of clap.events and pushes each event to the
Channels group of its job, so the sockets this process serves see their jobs live.
While an owner's feed is open in the process (`watch`), the events of that owner's
jobs go to the feed's group too. An event names its job's feed (the worker copies it
from the job), so routing to feeds asks the database nothing, and goes on while it is
away. Only for an event without one (a malformed job's failure, or an event from
before feeds were named) is the job's owner read from the database, once per job.

It reads without a consumer group (assigned partitions, nothing committed): every
replica reads everything, and a restart begins at the events of the moment the relay
was created (START_MARGIN before, for clocks a little apart), because a socket gets
its history from the snapshot: a relay that waited for Kafka relays what happened
while it waited, which the sockets connected meanwhile did not read. The Kafka consumer
runs in a thread; delivery to the in-memory channel layer happens on the server's
event loop, in order.
"""

import asyncio
import logging
import threading
import time
import uuid
from collections import Counter, OrderedDict, deque
from collections.abc import Iterable
from concurrent.futures import Future, wait
from itertools import islice

from channels.layers import get_channel_layer
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection

from streams import messages, tracing
from streams.config import KafkaConfig
from streams.consume import poll_batch
from webapp.claps.models import ClapJob
from webapp.claps.owners import feed_of
from webapp.realtime.coalescer import Coalescer
from webapp.realtime.events import feed_group_of, group_of, message_of

log = logging.getLogger(__name__)
BATCH = 500
RECENT_PER_FEED = 20  # jobs per feed whose newest event a feed gets when it opens
MAX_PENDING = 8  # batches handed to the event loop and not delivered yet
IDLE_POLL = 0.5  # seconds a poll may block when nothing is held back
NEW_PARTITIONS_EVERY = 30.0
START_MARGIN = 5.0  # seconds before its creation a relay begins to read


class Relay:
    def __init__(
        self,
        kafka: KafkaConfig,
        loop: asyncio.AbstractEventLoop,
        layer,
        *,
        progress_interval: float = 0.1,
        remember: int = 10_000,
    ):
        self.kafka = kafka
        self.topic = kafka.topics.events
        self.loop = loop
        self.layer = layer
        self.coalescer = Coalescer(progress_interval)
        self.ready = asyncio.Event()  # set once reading from the end of every partition
        self._latest: OrderedDict[str, dict] = OrderedDict()
        self._feed_of: dict[str, str] = {}  # job -> its feed, for the jobs in _latest
        self._recent: dict[str, OrderedDict[str, None]] = {}  # feed -> its jobs there
        self._remember = remember
        self._watched: Counter[str] = Counter()  # the feeds open here
        self._stored_feed: OrderedDict[str, str | None] = OrderedDict()  # relay thread only
        self._in_order = asyncio.Lock()
        self._pending: deque[Future] = deque()  # relay thread only
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="clap-events-relay", daemon=True)
        self._partitions: set[int] = set()
        self._next_partition_check = 0.0
        self._from_ms = messages.now_ms() - int(START_MARGIN * 1000)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._thread.join(timeout)

    def latest(self, job_id: str) -> dict | None:
        """The newest message relayed for the job (call on the event loop).

        Closes the gap of a socket that joined its group just after an event passed,
        while the recorder had not written that event to the database yet."""
        return self._latest.get(job_id)

    def recent(self, feeds: Iterable[str]) -> list[dict]:
        """The newest message relayed of each of the feeds' latest jobs (call on the
        event loop): what a feed opening now missed, while the recorder may not have
        written it to the database its client reads."""
        return [
            self._latest[job]
            for feed in feeds
            for job in islice(reversed(self._recent.get(feed, {})), RECENT_PER_FEED)
        ]

    def watch(self, feed: str) -> None:
        """Send the events of the feed's jobs to its group too (call on the loop)."""
        self._watched[feed] += 1

    def unwatch(self, feed: str) -> None:
        self._watched[feed] -= 1
        if self._watched[feed] <= 0:
            del self._watched[feed]

    def _run(self) -> None:
        consumer = Consumer(
            self.kafka.consumer(
                f"relay-{uuid.uuid4().hex}",  # never joins a group: partitions are assigned
                **{"enable.auto.commit": False, "auto.offset.reset": "latest"},
                logger=log,
            )
        )
        try:
            if self._assign_from_creation(consumer):
                self.loop.call_soon_threadsafe(self.ready.set)
                log.info("relaying %s (%d partitions)", self.topic, len(self._partitions))
            while not self._stopping.is_set():
                self._guarded_step(consumer)
        except RuntimeError:  # the event loop closed under us: the server is gone
            log.info("relay stopped: its event loop is closed")
        finally:
            consumer.close()
            connection.close()  # the owner look-ups': back to the pool on PostgreSQL

    def _assign_from_creation(self, consumer: Consumer) -> bool:
        # The offsets are looked up here rather than left to the first fetch: once
        # `ready` is set, every event produced afterwards is relayed, and connect()
        # relies on that.
        pause = 0.5
        while not self._stopping.is_set():
            try:
                partitions = self._topic_partitions(consumer)
                since = [TopicPartition(self.topic, p, self._from_ms) for p in partitions]
                assignment = []
                for found in consumer.offsets_for_times(since, timeout=5):
                    if found.offset < 0:  # nothing since then: from the end
                        _, end = consumer.get_watermark_offsets(found, timeout=5)
                        found = TopicPartition(self.topic, found.partition, end)
                    assignment.append(found)
            except (KafkaException, LookupError) as exc:
                log.warning("relay waiting for %s: %s", self.topic, exc)
                self._stopping.wait(pause)
                pause = min(pause * 2, 10.0)
                continue
            consumer.assign(assignment)
            self._partitions = set(partitions)
            self._next_partition_check = time.monotonic() + NEW_PARTITIONS_EVERY
            return True
        return False

    def _topic_partitions(self, consumer: Consumer) -> list[int]:
        meta = consumer.list_topics(self.topic, timeout=5).topics[self.topic]
        if meta.error is not None:
            raise LookupError(str(meta.error))
        return sorted(meta.partitions)

    def _follow_new_partitions(self, consumer: Consumer) -> None:
        """Partitions added to the topic later are read from their beginning."""
        self._next_partition_check = time.monotonic() + NEW_PARTITIONS_EVERY
        try:
            added = set(self._topic_partitions(consumer)) - self._partitions
        except (KafkaException, LookupError) as exc:
            log.warning("relay could not list %s: %s", self.topic, exc)
            return
        if added:
            consumer.incremental_assign(
                [TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in sorted(added)]
            )
            self._partitions |= added
            log.info("relay follows new partitions %s of %s", sorted(added), self.topic)

    def _guarded_step(self, consumer: Consumer) -> None:
        """One step; a surprise in one batch must not end live updates for the process."""
        try:
            self._step(consumer)
        except RuntimeError:
            raise
        except Exception:  # logged in full; the relay carries on
            log.exception("relay step failed; carrying on")
            self._stopping.wait(1.0)

    def _step(self, consumer: Consumer) -> None:
        if time.monotonic() >= self._next_partition_check:
            self._follow_new_partitions(consumer)
        wait = self.coalescer.wait(time.monotonic(), idle=IDLE_POLL)
        batch = poll_batch(consumer, wait, BATCH, log)
        now = time.monotonic()
        out: list[messages.JobEvent] = []
        for msg in batch:
            try:
                event = messages.JobEvent.decode(msg.value(), with_result=False)
            except messages.MalformedMessage as exc:
                # The recorder logs these as warnings already; one voice is enough.
                with tracing.about_message(msg):
                    log.debug("relay skips a malformed event: %s", exc)
                continue
            out.extend(self.coalescer.offer(event, now))
        out.extend(self.coalescer.due(now))
        if out:
            # The feeds' names: to route to the feeds open here, and to remember.
            feeds = self._feeds(out, ask_database=bool(self._watched))
            self._hand_over([(message_of(e), feeds.get(e.job)) for e in out])

    def _hand_over(self, batch: list[tuple[dict, str | None]]) -> None:
        """Schedule the batch's delivery on the event loop. While the loop is
        MAX_PENDING batches behind, wait for it here: the relay then falls behind Kafka,
        which keeps the events, instead of piling batches up in memory."""
        future = asyncio.run_coroutine_threadsafe(self._dispatch(batch), self.loop)
        future.add_done_callback(_log_failure)
        self._pending.append(future)
        while self._pending and (self._pending[0].done() or len(self._pending) > MAX_PENDING):
            if not wait([self._pending[0]], timeout=1.0).done and self._stopping.is_set():
                return
            if self._pending[0].done():
                self._pending.popleft()

    def _feeds(self, events: list[messages.JobEvent], ask_database: bool) -> dict[str, str | None]:
        """The feed of each event's job: named by the event, else (when asked) from the
        database."""
        named = {e.job: e.feed for e in events if e.feed}
        if not ask_database:
            return named
        return {**self._stored_feeds({e.job for e in events} - named.keys()), **named}

    def _stored_feeds(self, jobs: set[str]) -> dict[str, str | None]:
        """The feeds of the jobs' owners, from memory or one query for those not known
        yet. A job's row is committed before it is published, so it exists by now."""
        unknown = {job for job in jobs if job not in self._stored_feed}
        if unknown:
            try:
                found = dict(ClapJob.objects.filter(id__in=unknown).values_list("id", "owner"))
            except DatabaseError as exc:  # the jobs' feeds miss these events, sockets don't
                log.warning("relay could not read the owners of %d jobs: %s", len(unknown), exc)
                close_old_connections()
                return {}
            for job in unknown:
                owner = found.get(uuid.UUID(job))
                self._stored_feed[job] = None if owner is None else feed_of(owner)
                while len(self._stored_feed) > self._remember:
                    self._stored_feed.popitem(last=False)
        return {job: self._stored_feed.get(job) for job in jobs}

    async def _dispatch(self, batch: list[tuple[dict, str | None]]) -> None:
        async with self._in_order:  # batches are scheduled in order; keep them so
            for message, feed in batch:
                self._keep_latest(message, feed)
                event = {"type": "clap.event", "message": message}
                await self.layer.group_send(group_of(message["id"]), event)
                if feed in self._watched:  # only the site's own names become groups
                    await self.layer.group_send(feed_group_of(feed), event)

    def _keep_latest(self, message: dict, feed: str | None) -> None:
        job = message["id"]
        known = self._latest.get(job)
        if known is None or known["seq"] < message["seq"]:
            self._latest[job] = message
        self._latest.move_to_end(job)
        if feed is not None and job not in self._feed_of:
            self._feed_of[job] = feed
            self._recent.setdefault(feed, OrderedDict())[job] = None
        while len(self._latest) > self._remember:
            gone, _ = self._latest.popitem(last=False)
            self._forget_feed_of(gone)

    def _forget_feed_of(self, job: str) -> None:
        feed = self._feed_of.pop(job, None)
        if feed is not None:
            jobs = self._recent[feed]
            del jobs[job]
            if not jobs:
                del self._recent[feed]


def _log_failure(future) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("relay could not deliver events", exc_info=future.exception())


_relay: Relay | None = None
_guard = threading.Lock()


def start_relay() -> Relay:
    """The process's relay, started on the running event loop by the first call."""
    global _relay
    with _guard:
        if _relay is None:
            _relay = Relay(settings.KAFKA, asyncio.get_running_loop(), get_channel_layer())
            _relay.start()
        return _relay


def stop_relay() -> None:
    global _relay
    with _guard:
        relay, _relay = _relay, None
    if relay is not None:
        relay.stop()
