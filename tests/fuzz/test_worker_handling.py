"""The worker's handling of whatever a jobs partition carries, in process: a
malformed message ends in the dead-letter topic with its reason and nothing else
is done with it; a good job is performed; nothing escapes, so the slot (and the
worker) carries on. The Kafka producer is replaced by one that records and
confirms at once."""

import uuid
from dataclasses import dataclass

from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from streams import messages
from streams.config import KafkaConfig
from tests.fuzz.strategies import HUGE_TIME, job_dicts, keys, raw_values, valid_jobs
from tests.worker.fakes import FakeMessage
from worker.cancellations import CancelledJobs
from worker.claps import DONE, FAILED, MALFORMED, Performer
from worker.metrics import Metrics
from worker.offsets import Lease, Ticket
from worker.reporter import Reporter
from worker.settings import WorkerSettings

KAFKA = KafkaConfig("127.0.0.1:9")
TOPICS = KAFKA.topics


@dataclass
class Record:
    topic: str
    key: bytes | None
    value: bytes | None
    headers: dict[str, str]


class RecordingProducer:
    def __init__(self):
        self.records: list[Record] = []

    def produce(self, topic, value=None, key=None, headers=None, on_delivery=None):
        key = key.encode() if isinstance(key, str) else key
        self.records.append(Record(topic, key, value, dict(headers or [])))
        if on_delivery is not None:
            on_delivery(None, None)

    def poll(self, timeout=0):
        return 0

    def to(self, topic) -> list[Record]:
        return [r for r in self.records if r.topic == topic]


def performer(tmp_path) -> tuple[Performer, RecordingProducer, list]:
    producer, finished = RecordingProducer(), []
    reporter = Reporter(producer, KAFKA, "fuzz-worker", lambda *done: finished.append(done))
    worker = WorkerSettings(
        "fuzz-worker", clap_work_ms=0, retry_backoff_ms=0, heartbeat_file=tmp_path / "alive"
    )
    return Performer(worker, reporter, CancelledJobs(), Metrics()), producer, finished


messages_on_a_partition = st.lists(
    st.tuples(keys, raw_values(job_dicts) | valid_jobs), min_size=1, max_size=6
)


@settings(max_examples=150, deadline=None)
@given(messages_on_a_partition)
@example([(b"poison", HUGE_TIME), (None, None)])
def test_every_message_is_performed_or_dead_lettered_with_its_reason(tmp_path_factory, batch):
    perform, producer, finished = performer(tmp_path_factory.mktemp("w"))
    lease = Lease(TOPICS.jobs, 3)
    for offset, (key, value) in enumerate(batch):
        producer.records.clear()
        ticket = Ticket(lease, FakeMessage(value, offset, 3, key, TOPICS.jobs))
        outcome = perform.handle(ticket)  # must not raise: a raise would crash the slot
        event(outcome)

        try:
            job = messages.JobRequest.decode(value)
        except messages.MalformedMessage as exc:
            assert outcome == MALFORMED
            [letter] = producer.to(TOPICS.dlq)
            assert (letter.key, letter.value) == (key, value)
            assert letter.headers[messages.DLQ_ERROR] == str(exc)
            assert letter.headers[messages.DLQ_ATTEMPTS] == "0"
            assert letter.headers[messages.DLQ_TOPIC] == TOPICS.jobs
            assert letter.headers[messages.DLQ_OFFSET] == str(offset)
            events = [messages.JobEvent.decode(r.value) for r in producer.to(TOPICS.events)]
            assert [e.type for e in events] == ([messages.FAILED] if _job_id(key) else [])
        else:
            kinds = [messages.JobEvent.decode(r.value).type for r in producer.to(TOPICS.events)]
            if job.fail_at_clap is not None and 1 <= job.fail_at_clap <= job.claps:
                assert outcome == FAILED and kinds[-1] == messages.FAILED
                assert len(producer.to(TOPICS.dlq)) == 1
            else:
                assert outcome == DONE and kinds[-1] == messages.DONE
                assert kinds.count(messages.PROGRESS) == job.claps
                assert producer.to(TOPICS.dlq) == []
        # Its offset may now be stored: the outcome was confirmed.
        assert finished[-1] == (ticket, None)
    assert len(finished) == len(batch)


def _job_id(key: bytes | None) -> bool:
    try:
        uuid.UUID(key.decode("ascii"))
    except (AttributeError, UnicodeDecodeError, ValueError):
        return False
    return True
