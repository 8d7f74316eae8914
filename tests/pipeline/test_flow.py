"""The whole pipeline against the real broker: API -> outbox -> workers -> recorder."""

from collections import defaultdict

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition
from rest_framework.test import APIClient

from streams import messages
from tests.pipeline.conftest import wait_for
from webapp.claps import services
from webapp.claps.models import ClapJob, Status, Transition
from webapp.dashboard.groups import describe_groups

pytestmark = pytest.mark.kafka


def _all_final(ids):
    return (
        ClapJob.objects.filter(id__in=ids)
        .exclude(status__in=[Status.DONE, Status.FAILED, Status.CANCELLED])
        .count()
        == 0
    )


def _events_by_job(config, count):
    consumer = Consumer(config.consumer("test-events-reader"))
    consumer.assign(
        [
            TopicPartition(config.topics.events, p, OFFSET_BEGINNING)
            for p in range(config.topics.events_partitions)
        ]
    )
    seen = defaultdict(list)
    total = 0
    try:
        while total < count:
            msg = consumer.poll(5)
            assert msg is not None, f"only {total} of {count} events arrived"
            seen[msg.key().decode()].append(messages.JobEvent.decode(msg.value()))
            total += 1
    finally:
        consumer.close()
    return seen


def _members_with_partitions(config):
    try:
        group = describe_groups(config, [config.worker_group], timeout=5)[config.worker_group]
    except KafkaException:  # the group coordinator is still loading
        return []
    return [m for m in group.members if m.partitions]


def test_200_jobs_through_2_workers_complete_exactly_once(stack, isolated_kafka):
    stack.recorder()
    for name in ("worker-1", "worker-2"):
        stack.worker(name, CLAP_WORK_MS="0")
    wait_for(
        lambda: len(_members_with_partitions(isolated_kafka)) == 2,
        timeout=60,
        what="both workers to share the partitions",
    )
    jobs = [services.clap_submit(owner="anon:load", claps=1 + i % 3) for i in range(200)]
    ids = [j.id for j in jobs]
    wait_for(lambda: _all_final(ids), timeout=120, what="200 jobs to finish")

    assert ClapJob.objects.filter(id__in=ids, status=Status.DONE).count() == 200
    done_transitions = Transition.objects.filter(job_id__in=ids, status=Status.DONE)
    assert done_transitions.count() == 200  # exactly once each
    assert all(j.done == j.claps for j in ClapJob.objects.filter(id__in=ids))
    assert set(done_transitions.values_list("worker", flat=True)) == {"worker-1", "worker-2"}

    # per job: running, one progress per clap, done
    expected = sum(2 + j.claps for j in jobs)
    for job_id, events in _events_by_job(isolated_kafka, expected).items():
        seqs = [e.seq for e in events]
        assert seqs == sorted(seqs), f"events of {job_id} out of order"
        assert [e.type for e in events][-1] == messages.DONE


def test_jobs_accepted_while_the_broker_is_down_complete_after_it_returns(
    stack, isolated_kafka, kafka_broker
):
    if kafka_broker is None:
        pytest.skip("the run uses an existing cluster, which this test must not stop")
    stack.recorder()
    stack.worker("worker-1", CLAP_WORK_MS="0")
    kafka_broker.stop()
    try:
        client = APIClient()
        responses = [client.post("/api/claps/", {"claps": 2}, format="json") for _ in range(5)]
        assert [r.status_code for r in responses] == [202] * 5
    finally:
        kafka_broker.start()
    ids = [r.json()["id"] for r in responses]
    wait_for(lambda: _all_final(ids), timeout=120, what="the jobs accepted during the outage")
    assert ClapJob.objects.filter(id__in=ids, status=Status.DONE).count() == 5


def test_cancel_a_queued_and_a_running_job(stack, isolated_kafka):
    stack.recorder()
    client = APIClient()
    running = client.post("/api/claps/", {"claps": 50}, format="json").json()["id"]
    queued = client.post("/api/claps/", {"claps": 1}, format="json").json()["id"]
    # Queued: no worker is running yet.
    assert client.post(f"/api/claps/{queued}/cancel/").status_code == 202
    wait_for(
        lambda: ClapJob.objects.get(id=queued).status == Status.CANCELLED,
        timeout=30,
        what="the queued job to be cancelled",
    )

    stack.worker("worker-1", CLAP_WORK_MS="100")
    wait_for(
        lambda: ClapJob.objects.get(id=running).done >= 2,
        timeout=60,
        what="the long job to be running",
    )
    assert client.post(f"/api/claps/{running}/cancel/").status_code == 202
    job = wait_for(
        lambda: ClapJob.objects.filter(id=running, status=Status.CANCELLED).first(),
        timeout=30,
        what="the running job to be cancelled",
    )
    assert job.done < 50
    assert client.post(f"/api/claps/{running}/cancel/").status_code == 409
    # The queued one never ran on the worker.
    assert not Transition.objects.filter(job_id=queued, status=Status.RUNNING).exists()
