"""Cancel requests: every worker reads all of the control topic into a bounded set.

The control topic is compacted and keyed by job id, so reading it from the beginning
(assigned, not in a group, never committed) gives every worker every recent request.
"""

import logging
import threading
import time
from collections import OrderedDict

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition

from streams.config import KafkaConfig
from streams.messages import CancelRequest, MalformedMessage

log = logging.getLogger(__name__)
client_log = logging.getLogger("worker.kafka.control")

TTL_SECONDS = 24 * 3600
LIMIT = 100_000


class CancelledJobs:
    """Job ids cancelled in the last TTL, at most LIMIT of them (oldest go first)."""

    def __init__(self, ttl: float = TTL_SECONDS, limit: int = LIMIT, clock=time.time) -> None:
        self.ttl = ttl
        self.limit = limit
        self._clock = clock
        self._expiry: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, job: str, at: float) -> None:
        expiry = at + self.ttl
        now = self._clock()
        with self._lock:
            if expiry > now:
                self._expiry[job] = expiry
                self._expiry.move_to_end(job)
            while self._expiry and (
                len(self._expiry) > self.limit or next(iter(self._expiry.values())) <= now
            ):
                self._expiry.popitem(last=False)

    def discard(self, job: str) -> None:
        with self._lock:
            self._expiry.pop(job, None)

    def __contains__(self, job: str) -> bool:
        with self._lock:
            expiry = self._expiry.get(job)
        return expiry is not None and expiry > self._clock()

    def __len__(self) -> int:
        return len(self._expiry)

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        """Take in one record of the control topic."""
        if value is None and key is not None:
            # A tombstone deletes the key in a compacted topic: forget the request too.
            self.discard(key.decode("utf-8", "replace"))
            return
        try:
            request = CancelRequest.decode(value)
        except MalformedMessage as exc:
            log.warning("ignoring a malformed control message: %s", exc)
            return
        self.add(request.job, request.at)


class ControlReader:
    """A background thread that feeds the control topic into a CancelledJobs."""

    POLL_SECONDS = 0.2
    RETRY_SECONDS = 2.0

    def __init__(self, kafka: KafkaConfig, cancelled: CancelledJobs, client_id: str) -> None:
        self.kafka = kafka
        self.cancelled = cancelled
        self.caught_up = threading.Event()  # set once every partition was read to its end
        self._stop = threading.Event()
        self._behind: set[int] = set()
        self._consumer = Consumer(
            kafka.consumer(
                # Required by the client, but never joined or committed: assign() only.
                f"{kafka.worker_group}.control",
                **{
                    "client.id": f"{client_id}-control",
                    "enable.auto.commit": False,
                    "enable.partition.eof": True,
                    "logger": client_log,
                },
            )
        )
        self._thread = threading.Thread(target=self._run, name="control-reader", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.ident is None:
            self._consumer.close()
        else:
            self._thread.join(timeout)  # the thread closes its consumer

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                if not self._behind and not self.caught_up.is_set():
                    if not self.assign():
                        self._stop.wait(self.RETRY_SECONDS)
                    continue
                self.step()
        finally:
            self._consumer.close()

    def assign(self) -> bool:
        topic = self.kafka.topics.control
        try:
            meta = self._consumer.list_topics(topic, timeout=5.0).topics[topic]
            if meta.error is not None:
                raise KafkaException(meta.error)
        except KafkaException as exc:
            # On the client's logger: said once per outage, with the client's own
            # complaints, by the worker's throttle (streams.logthrottle).
            client_log.warning("cannot read %s yet (%s); cancel requests wait", topic, exc)
            return False
        partitions = sorted(meta.partitions)
        self._behind = set(partitions)
        self._consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        log.info("reading cancel requests from %s (%d partitions)", topic, len(partitions))
        return True

    def step(self) -> bool:
        """Apply one control message; False if there was none."""
        msg = self._consumer.poll(self.POLL_SECONDS)
        if msg is None:
            return False
        error = msg.error()
        if error is not None:
            if error.code() == KafkaError._PARTITION_EOF:
                self._behind.discard(msg.partition())
                if not self._behind and not self.caught_up.is_set():
                    log.info("cancel requests read up to date: %d cancelled", len(self.cancelled))
                    self.caught_up.set()
            else:
                log.warning("control topic: %s", error)
            return False
        self.cancelled.apply(msg.key(), msg.value())
        return True
