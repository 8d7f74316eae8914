"""The recorder counts what it writes and how late, over the real broker."""

import uuid

import pytest
from confluent_kafka import Producer
from prometheus_client import generate_latest

from streams import messages
from tests.monitoring import promtool
from tools.waiting import wait_until
from webapp.claps.models import ClapJob
from webapp.claps.recorder import Recorder
from worker.metrics import Metrics

pytestmark = [pytest.mark.kafka, pytest.mark.django_db(transaction=True)]


def test_events_written_are_counted_with_their_delay(isolated_kafka):
    job = ClapJob.objects.create(owner="anon:r", claps=1)
    sent = messages.now() - 5.0  # the worker sent them 5 s ago
    pickup = messages.now_ms()
    events = [
        messages.JobEvent(str(job.id), kind, messages.seq_of(pickup, n), sent, worker="w")
        for n, kind in enumerate((messages.RUNNING, messages.DONE))
    ]
    producer = Producer(isolated_kafka.producer())
    for event in events:
        producer.produce(isolated_kafka.topics.events, key=str(job.id), value=event.encode())
    producer.produce(isolated_kafka.topics.events, key=str(uuid.uuid4()), value=b"not json")
    assert producer.flush(10) == 0

    recorder = Recorder(isolated_kafka)
    metrics = recorder.metrics.registry
    try:
        wait_until(
            lambda: (
                recorder.record_step()
                and metrics.get_sample_value("clapstream_recorder_malformed_events_total") == 1
                and metrics.get_sample_value("clapstream_recorder_event_delay_seconds_count") == 2
            ),
            timeout=30,
            what="the recorder to take the three events",
        )
    finally:
        recorder.close()
    for kind in (messages.RUNNING, messages.DONE):
        assert metrics.get_sample_value("clapstream_recorder_events_total", {"type": kind}) == 1
    delay = metrics.get_sample_value("clapstream_recorder_event_delay_seconds_sum")
    assert 10.0 <= delay < 30.0, "two events, each written 5 s or more after it was sent"
    assert (
        metrics.get_sample_value("clapstream_recorder_event_delay_seconds_bucket", {"le": "5.0"})
        == 0
    )
    job.refresh_from_db()
    assert job.status == "done"


def test_an_event_no_database_can_store_is_skipped_not_retried_for_ever(isolated_kafka):
    poisoned, good = (ClapJob.objects.create(owner="anon:r", claps=1) for _ in range(2))
    pickup, at = messages.now_ms(), messages.now()
    # A lone surrogate: valid JSON, but no UTF-8, so no database text, can hold it.
    bad = messages.JobEvent(str(poisoned.id), messages.FAILED, pickup, at, error="x\udc80")
    done = messages.JobEvent(str(good.id), messages.DONE, pickup, at, worker="w")
    producer = Producer(isolated_kafka.producer())
    for event in (bad, done):  # one partition: the good event waits behind the bad one
        producer.produce(isolated_kafka.topics.events, value=event.encode(), partition=0)
    assert producer.flush(10) == 0

    recorder = Recorder(isolated_kafka)
    metrics = recorder.metrics.registry
    try:
        wait_until(
            lambda: recorder.record_step() and ClapJob.objects.get(id=good.id).status == "done",
            timeout=30,
            what="the event behind the bad one",
        )
    finally:
        recorder.close()
    assert metrics.get_sample_value("clapstream_recorder_malformed_events_total") == 1
    assert ClapJob.objects.get(id=poisoned.id).status == "queued"


def test_worker_and_recorder_metric_names_follow_the_conventions(isolated_kafka):
    recorder = Recorder(isolated_kafka)
    try:
        registries = [Metrics().registry, recorder.metrics.registry]
    finally:
        recorder.close()
    for registry in registries:
        done = promtool.run("check", "metrics", stdin=generate_latest(registry))
        assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
