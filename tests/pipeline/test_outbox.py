"""The job row is the outbox: published after commit, or later by the sweeper."""

import json
import threading
import time
import urllib.request

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ResourceType,
)
from django.db import OperationalError, connection
from django.db.backends.signals import connection_created
from rest_framework.test import APIClient

from streams import messages
from streams.config import KafkaConfig
from tests.support.kafka import jobs_topic, topic_records
from tests.support.pipeline import start_web
from tests.support.postgres import on_postgres, pool_in_use
from tools.waiting import wait_until
from webapp.claps import publisher as publisher_module
from webapp.claps.models import ClapJob
from webapp.claps.publisher import MARK_BATCH, MARK_EVERY, Publisher
from webapp.claps.recorder import Recorder
from webapp.claps.row_updates import update_each

pytestmark = [pytest.mark.kafka, pytest.mark.django_db(transaction=True)]


def _read_at(config, partition, offset):
    consumer = Consumer(config.consumer("test-reader"))
    consumer.assign([TopicPartition(config.topics.jobs, partition, offset)])
    try:
        return consumer.poll(10)
    finally:
        consumer.close()


def _until_every_row_is_marked(but: ClapJob | None = None) -> None:
    unmarked = ClapJob.objects.filter(published_at__isnull=True)
    if but is not None:
        unmarked = unmarked.exclude(id=but.id)
    wait_until(lambda: not unmarked.exists(), timeout=15, what="every job row marked published")


def test_an_accepted_job_is_published_with_its_position(isolated_kafka):
    response = APIClient().post("/api/claps/", {"claps": 4, "note": "hi"}, format="json")
    assert response.status_code == 202
    job_id = response.json()["id"]
    job = wait_until(
        lambda: ClapJob.objects.filter(id=job_id, published_at__isnull=False).first(),
        timeout=15,
        what="the delivery report",
    )
    msg = _read_at(isolated_kafka, job.partition, job.offset)
    assert msg.key().decode() == job_id
    assert messages.JobRequest.decode(msg.value()) == job.to_message()


def test_the_sweeper_republishes_what_kafka_never_acknowledged(isolated_kafka):
    job = ClapJob.objects.create(owner="anon:x", claps=2)  # as if the publish was lost
    recorder = Recorder(isolated_kafka)
    try:
        assert recorder.sweep_step(min_age=0) == 1
        recorder.publisher.flush(10)
        job.refresh_from_db()
        assert job.published_at is not None
        assert recorder.sweep_step(min_age=0) == 0
    finally:
        recorder.close()
    msg = _read_at(isolated_kafka, job.partition, job.offset)
    assert msg.key().decode() == str(job.id)


def test_a_backlog_is_republished_oldest_first(isolated_kafka):
    jobs = [ClapJob.objects.create(owner="anon:x", claps=1) for _ in range(3)]
    for age, job in zip((3, 2, 1), jobs, strict=True):  # jobs[0] is the oldest
        ClapJob.objects.filter(id=job.id).update(created_at=job.created_at.replace(year=2000 - age))
    recorder = Recorder(isolated_kafka)
    try:
        assert recorder.sweep_step(min_age=0, limit=2) == 2
        recorder.publisher.flush(10)
    finally:
        recorder.close()
    published = set(ClapJob.objects.filter(published_at__isnull=False).values_list("id", flat=True))
    assert published == {jobs[0].id, jobs[1].id}


def test_a_cancel_waits_for_its_own_messages_only(isolated_kafka):
    """Another message stuck on its way (here: to a topic that does not exist) must not
    hold up a cancel that Kafka confirmed, nor make it a 503."""
    publisher = Publisher(isolated_kafka)
    job = ClapJob.objects.create(owner="anon:x", claps=1)
    try:
        publisher.producer.produce("clapstream-no-such-topic", value=b"stuck")
        publisher.publish_cancel(job, timeout=5)
        topics = isolated_kafka.topics
        cancels = topic_records(isolated_kafka, topics.control, topics.control_partitions)
        assert [r.key for r in cancels] == [str(job.id)]
    finally:
        publisher.producer.purge()
        publisher.close()


def test_a_web_process_stopped_gracefully_sends_and_marks_its_jobs(stack, isolated_kafka):
    """SIGTERM (a rolling update) right after a submission: the job is on the topic and
    its row marked, so the outbox sweep does not send it again."""
    base = start_web(stack)
    submission = urllib.request.Request(
        f"{base}/api/claps/", data=b'{"claps": 1}', headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(submission, timeout=10) as answer:
        job_id = json.load(answer)["id"]
    web = stack.group.children["web"]
    stack.group.stop("web")
    assert web.proc.returncode == 0
    assert ClapJob.objects.get(id=job_id).published_at is not None
    assert [r.key for r in jobs_topic(isolated_kafka)] == [job_id]


def test_delivery_reports_outlive_a_database_error(isolated_kafka, monkeypatch):
    unmarked, marked = (ClapJob.objects.create(owner="anon:x", claps=1) for _ in range(2))
    away = [OperationalError("the database is away")]

    def update_once_away(*args, **kwargs):
        if away:
            raise away.pop()
        return update_each(*args, **kwargs)

    monkeypatch.setattr(publisher_module, "update_each", update_once_away)
    publisher = Publisher(isolated_kafka)
    try:
        publisher.publish_job(unmarked)
        wait_until(lambda: not away, timeout=15, what="the first delivery report")
        publisher.publish_job(marked)
        wait_until(
            lambda: ClapJob.objects.filter(id=marked.id, published_at__isnull=False).exists(),
            timeout=15,
            what="the second delivery report",
        )
    finally:
        publisher.close()
    assert ClapJob.objects.get(id=unmarked.id).published_at is None  # left to the sweeper


@on_postgres
def test_a_closed_publisher_gives_its_connection_back_to_the_pool(isolated_kafka):
    job = ClapJob.objects.create(owner="anon:x", claps=1)
    publisher = Publisher(isolated_kafka)
    try:
        publisher.publish_job(job)
        wait_until(
            lambda: ClapJob.objects.filter(id=job.id, published_at__isnull=False).exists(),
            timeout=15,
            what="the delivery report",
        )
        connection.close()  # the test's own
        assert pool_in_use() == 1  # the delivery thread's
    finally:
        publisher.close()
    assert pool_in_use() == 0


def test_a_sweep_sends_no_second_copy_while_the_first_is_on_its_way(isolated_kafka):
    ClapJob.objects.create(owner="anon:x", claps=1)
    unreachable = KafkaConfig("127.0.0.1:9", topics=isolated_kafka.topics)
    recorder = Recorder(isolated_kafka, publisher=Publisher(unreachable))
    try:
        assert recorder.sweep_step(min_age=0) == 1
        assert recorder.sweep_step(min_age=0) == 0  # the first copy is not acknowledged
    finally:
        recorder.publisher.producer.purge()  # nothing to wait for at close
        recorder.close()


def test_delivery_reports_share_one_database_connection(isolated_kafka):
    jobs = [ClapJob.objects.create(owner="anon:x", claps=1) for _ in range(20)]
    opened = []

    def count(sender, connection, **kwargs):
        opened.append(threading.current_thread().name)

    connection_created.connect(count)
    publisher = Publisher(isolated_kafka)
    try:
        for job in jobs:
            publisher.publish_job(job)
        _until_every_row_is_marked()
    finally:
        publisher.close()
        connection_created.disconnect(count)
    assert opened.count("kafka-delivery") == 1


def test_a_burst_of_reports_marks_each_row_with_its_own_position(isolated_kafka):
    """Reports are marked in batches of MARK_BATCH rows per transaction; each row still
    gets the partition and offset Kafka gave its own message."""
    jobs = ClapJob.objects.bulk_create(
        ClapJob(owner="anon:x", claps=1) for _ in range(MARK_BATCH * 2 + 7)
    )
    publisher = Publisher(isolated_kafka)
    try:
        for job in jobs:
            publisher.publish_job(job)
        assert publisher.flush(30) == 0
    finally:
        publisher.close()
    rows = {str(row.id): row for row in ClapJob.objects.all()}
    assert all(row.published_at is not None for row in rows.values())
    seen = {r.key: (r.partition, r.offset) for r in jobs_topic(isolated_kafka)}
    assert seen == {job_id: (row.partition, row.offset) for job_id, row in rows.items()}


def test_reports_arriving_one_by_one_are_marked_together(isolated_kafka, monkeypatch):
    """Jobs submitted one at a time come back one report at a time; marking each on its
    own made a commit per job. The reports of each MARK_EVERY go in one transaction."""
    first, *jobs = (ClapJob.objects.create(owner="anon:x", claps=1) for _ in range(31))
    marks = []
    mark = Publisher._mark

    def counted(self, delivered):
        marks.append(len(delivered))
        return mark(self, delivered)

    monkeypatch.setattr(Publisher, "_mark", counted)
    publisher = Publisher(isolated_kafka)
    try:
        publisher.publish_job(first)  # the producer's start (its id, its connection)
        assert publisher.flush(15) == 0
        marks.clear()
        began = time.monotonic()
        for job in jobs:
            publisher.publish_job(job)
            # A steady rate, not one burst: the broker acknowledges each job (a local
            # round trip of a few ms) before the next is sent.
            time.sleep(0.01)
        _until_every_row_is_marked()
        took = time.monotonic() - began
    finally:
        publisher.close()
    assert sum(marks) == len(jobs)
    # At most one transaction per MARK_EVERY, however slow the machine; one per report
    # would be 30 in the 0.3 s or so this takes.
    assert len(marks) <= took / MARK_EVERY + 2, (marks, took)


def test_a_producer_ended_by_a_fatal_error_is_replaced(isolated_kafka, caplog):
    # A real fatal error from the real broker: with the gap-less guarantee on (for
    # this test only), a message the topic refuses ends the idempotent producer.
    admin = AdminClient(isolated_kafka.admin())
    jobs = ConfigResource(
        ResourceType.TOPIC,
        isolated_kafka.topics.jobs,
        incremental_configs=[
            ConfigEntry("max.message.bytes", "1000", incremental_operation=AlterConfigOpType.SET)
        ],
    )
    admin.incremental_alter_configs([jobs])[jobs].result()
    too_large = ClapJob.objects.create(owner="anon:x", claps=1, note="é" * messages.MAX_NOTE)
    after = ClapJob.objects.create(owner="anon:x", claps=1)
    publisher = Publisher(isolated_kafka, **{"enable.gapless.guarantee": True})
    first = publisher.producer
    try:
        publisher.publish_job(too_large)
        wait_until(lambda: publisher.producer is not first, timeout=15, what="a new producer")
        publisher.publish_job(after)
        _until_every_row_is_marked(but=too_large)
        assert publisher.jobs_in_flight() == 0  # so the sweeper can send too_large again
    finally:
        publisher.close()
    assert [r.key for r in jobs_topic(isolated_kafka)] == [str(after.id)]
    too_large.refresh_from_db()
    assert too_large.published_at is None
    assert "Kafka producer failed for good" in caplog.text
