"""A real `python -m worker` on a private topic, fed whatever hypothesis makes up
(any key, value and Kafka headers): each malformed message lands in the dead-letter
topic with its reason, each good job is done, and the process is still running."""

import pytest
from confluent_kafka import Producer
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from streams import messages
from tests.fuzz.strategies import HUGE_TIME, job_dicts, keys, raw_values, valid_jobs
from tests.support.workers import Outputs, Processes, private_config
from tools.waiting import wait_until

pytestmark = pytest.mark.kafka

headers = st.lists(st.tuples(st.text(max_size=12), st.none() | st.binary(max_size=16)), max_size=3)
batches = st.lists(
    st.tuples(keys, raw_values(job_dicts) | valid_jobs, headers), min_size=1, max_size=8
)


@pytest.fixture
def config(kafka):
    return private_config(kafka, partitions=1)


@pytest.fixture
def running_worker(config, tmp_path):
    processes = Processes(config, tmp_path)
    worker = processes.start("fuzzed", CLAP_WORK_MS="0", RETRY_BACKOFF_MS="0")
    outputs = Outputs(config)
    yield worker, outputs, processes
    outputs.close()
    processes.stop_all()


def _produce(config, batch) -> list[int]:
    """Produce to partition 0 and return each message's offset, in order."""
    offsets: dict[int, int] = {}
    producer = Producer(config.producer())
    for n, (key, value, extra) in enumerate(batch):
        producer.produce(
            config.topics.jobs,
            value,
            key,
            partition=0,
            headers=extra,
            on_delivery=lambda err, msg, n=n: offsets.__setitem__(n, msg.offset()),
        )
    assert producer.flush(10) == 0
    return [offsets[n] for n in range(len(batch))]


def _reason(value) -> str | None:
    try:
        messages.JobRequest.decode(value)
    except messages.MalformedMessage as exc:
        return str(exc)
    return None


@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
@given(batch=batches)
@example(batch=[(b"poison", HUGE_TIME, [])])
def test_the_worker_dead_letters_what_it_cannot_read_and_carries_on(config, running_worker, batch):
    worker, outputs, processes = running_worker
    offsets = _produce(config, batch)
    bad = {o: _reason(v) for o, (_, v, _) in zip(offsets, batch, strict=True) if _reason(v)}
    good = {messages.JobRequest.decode(v).id for _, v, _ in batch if _reason(v) is None}

    def letters() -> dict[int, str]:
        found = {}
        for msg in outputs.dead_letters:
            h = {k: v.decode() for k, v in msg.headers()}
            found[int(h[messages.DLQ_OFFSET])] = h[messages.DLQ_ERROR]
        return found

    def settled():
        outputs.poll()
        return set(bad) <= set(letters()) and all(outputs.final(job) for job in good)

    wait_until(settled, 30, "dead letters and finished jobs", tick=outputs.poll)
    assert {o: letters()[o] for o in bad} == bad
    assert worker.poll() is None, processes.log("fuzzed")
