"""The whole pipeline against the real broker: API -> outbox -> workers -> recorder."""

import pytest
from confluent_kafka import KafkaException
from rest_framework.test import APIClient

from streams import messages
from tests.support.workers import Outputs
from tools.waiting import wait_until
from webapp.claps import services
from webapp.claps.models import ClapJob, Status, Transition
from webapp.claps.owners import feed_of
from webapp.dashboard.groups import describe_groups

pytestmark = pytest.mark.kafka


def _all_final(ids):
    return (
        ClapJob.objects.filter(id__in=ids)
        .exclude(status__in=[Status.DONE, Status.FAILED, Status.CANCELLED])
        .count()
        == 0
    )


@pytest.fixture
def outputs(isolated_kafka):
    """What the workers wrote to Kafka, read from the beginning."""
    out = Outputs(isolated_kafka)
    yield out
    out.close()


def _reading(outputs):
    return lambda: outputs.poll(0.1)


def _worker_types(outputs, job_id, worker="worker-1") -> list[str]:
    return [e.type for e in outputs.of(str(job_id)) if e.worker == worker]


def _members_with_partitions(config):
    try:
        group = describe_groups(config, [config.worker_group], timeout=5)[config.worker_group]
    except KafkaException:  # the group coordinator is still loading
        return []
    return [m for m in group.members if m.partitions]


def test_200_jobs_through_2_workers_complete_exactly_once(stack, isolated_kafka, outputs):
    stack.recorder()
    for name in ("worker-1", "worker-2"):
        stack.worker(name, CLAP_WORK_MS="0")
    wait_until(
        lambda: len(_members_with_partitions(isolated_kafka)) == 2,
        timeout=60,
        what="both workers to share the partitions",
    )
    jobs = [services.clap_submit(owner="anon:load", claps=1 + i % 3) for i in range(200)]
    ids = [j.id for j in jobs]
    wait_until(lambda: _all_final(ids), timeout=120, what="200 jobs to finish")

    assert ClapJob.objects.filter(id__in=ids, status=Status.DONE).count() == 200
    assert all(j.done == j.claps for j in ClapJob.objects.filter(id__in=ids))
    done_by = Transition.objects.filter(job_id__in=ids, status=Status.DONE)
    assert set(done_by.values_list("worker", flat=True)) == {"worker-1", "worker-2"}

    # What the workers did, read from Kafka: each job performed to its end exactly once
    # (running, one progress per clap, done), its events in seq order.
    expected = sum(2 + j.claps for j in jobs)
    wait_until(lambda: len(outputs.events) >= expected, 30, "every event", _reading(outputs))
    outputs.read_to_end()  # anything beyond the expected, such as a second `done`
    for j in jobs:
        events = outputs.of(str(j.id))
        assert [e.type for e in events] == [
            messages.RUNNING,
            *[messages.PROGRESS] * j.claps,
            messages.DONE,
        ], f"job {j.id}"
        assert [e.seq for e in events] == sorted(e.seq for e in events), f"job {j.id}"
        assert {e.feed for e in events} == {feed_of("anon:load")}, f"job {j.id}"


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
    wait_until(lambda: _all_final(ids), timeout=120, what="the jobs accepted during the outage")
    assert ClapJob.objects.filter(id__in=ids, status=Status.DONE).count() == 5


def test_cancel_a_queued_and_a_running_job(stack, isolated_kafka, outputs):
    stack.recorder()
    client = APIClient()
    running = client.post("/api/claps/", {"claps": 50}, format="json").json()["id"]
    queued = client.post("/api/claps/", {"claps": 1}, format="json").json()["id"]
    # Queued: no worker is running yet.
    assert client.post(f"/api/claps/{queued}/cancel/").status_code == 202
    wait_until(
        lambda: ClapJob.objects.get(id=queued).status == Status.CANCELLED,
        timeout=30,
        what="the queued job to be cancelled",
    )

    stack.worker("worker-1", CLAP_WORK_MS="100")
    wait_until(
        lambda: ClapJob.objects.get(id=running).done >= 2,
        timeout=60,
        what="the long job to be running",
    )
    assert client.post(f"/api/claps/{running}/cancel/").status_code == 202
    job = wait_until(
        lambda: ClapJob.objects.filter(id=running, status=Status.CANCELLED).first(),
        timeout=30,
        what="the running job to be cancelled",
    )
    assert client.post(f"/api/claps/{running}/cancel/").status_code == 409
    # The site's own `cancelled` events make the rows final at once; what the worker
    # did shows in its own events: it stopped the running job part-way and never
    # started the queued one.
    wait_until(
        lambda: messages.CANCELLED in _worker_types(outputs, running),
        30,
        "the worker to stop the running job",
        _reading(outputs),
    )
    wait_until(
        lambda: _worker_types(outputs, queued),
        30,
        "the worker to skip the queued job",
        _reading(outputs),
    )
    stopped = [e for e in outputs.of(running) if e.worker == "worker-1"]
    assert messages.DONE not in [e.type for e in stopped]
    assert stopped[-1].type == messages.CANCELLED and 2 <= stopped[-1].done < 50
    assert _worker_types(outputs, queued) == [messages.CANCELLED]
    assert job.done < 50
    # Every event names its owner's feed, the site's own `cancelled` as the worker's.
    feeds = {e.feed for e in outputs.of(queued) + outputs.of(running)}
    assert feeds == {feed_of(job.owner)}
