"""Recorders are one consumer group: each member writes the jobs of its partitions, and
exactly one of them, the holder of partition 0, sweeps the outbox."""

import time

import pytest
from confluent_kafka import Producer, TopicPartition
from django.db import OperationalError

from streams import messages
from tools.ports import free_port
from tools.waiting import wait_until
from webapp.claps import recorder as recorder_module
from webapp.claps.models import ClapJob, Status
from webapp.claps.recorder import SWEEPER_PARTITION, Recorder

pytestmark = [pytest.mark.kafka, pytest.mark.django_db(transaction=True)]


def _step_until(members, condition, what):
    def stepped():
        for member in members:
            member.record_step(timeout=0.1)
        return condition()

    wait_until(stepped, timeout=60, what=what, interval=0)


def _running(kafka, job: ClapJob) -> None:
    event = messages.JobEvent(
        job=str(job.id),
        type=messages.RUNNING,
        seq=messages.seq_of(messages.now_ms(), 0),
        at=messages.now(),
        worker="w",
        done=0,
        total=job.claps,
    )
    producer = Producer(kafka.producer())
    producer.produce(kafka.topics.events, key=str(job.id), value=event.encode())
    assert producer.flush(10) == 0


def _recorded(member: Recorder, kind: str) -> float | None:
    return member.metrics.registry.get_sample_value(
        "clapstream_recorder_events_total", {"type": kind}
    )


def test_members_split_the_partitions_and_one_sweeps(isolated_kafka):
    partitions = set(range(isolated_kafka.topics.events_partitions))
    first, second = Recorder(isolated_kafka), Recorder(isolated_kafka)
    members = [first, second]
    try:
        _step_until(
            members,
            lambda: (
                first.partitions | second.partitions == partitions
                and first.partitions
                and second.partitions
                and not first.partitions & second.partitions
            ),
            "both members to hold partitions",
        )
        assert [m.sweeps for m in members].count(True) == 1
        sweeper = next(m for m in members if m.sweeps)
        assert SWEEPER_PARTITION in sweeper.partitions
        other = second if sweeper is first else first
        lost = ClapJob.objects.create(owner="anon:x", claps=1)  # never published
        ClapJob.objects.filter(id=lost.id).update(created_at=lost.created_at.replace(year=2000))
        other.maybe_sweep(interval=5)  # not the sweeper: sends nothing
        other.publisher.flush(5)
        assert ClapJob.objects.get(id=lost.id).published_at is None

        # Every job is recorded, whichever member holds its partition.
        jobs = [ClapJob.objects.create(owner="anon:x", claps=1) for _ in range(20)]
        for job in jobs:
            _running(isolated_kafka, job)
        _step_until(
            members,
            lambda: (
                ClapJob.objects.filter(id__in=[j.id for j in jobs], status=Status.RUNNING).count()
                == len(jobs)
            ),
            "every job recorded running",
        )

        # The sweeper leaves: the other member takes every partition and the sweep.
        sweeper.close()
        members.remove(sweeper)
        _step_until(members, lambda: other.partitions == partitions, "the rebalance")
        assert other.sweeps
        other.maybe_sweep(interval=5)
        wait_until(
            lambda: ClapJob.objects.get(id=lost.id).published_at is not None,
            timeout=15,
            what="the new sweeper to publish the lost job",
        )
    finally:
        for member in members:
            member.close()


@pytest.mark.parametrize("database_away", [False, True], ids=["written", "database-away"])
def test_partitions_revoked_while_their_batch_is_in_hand_go_to_the_next_holder(
    isolated_kafka, monkeypatch, database_away
):
    """A rebalance can revoke a partition inside poll_batch, after its first events
    came. The member must not store or seek its offsets (the consumer refuses, and the
    member would die): its next holder reads the events again."""
    partitions = set(range(isolated_kafka.topics.events_partitions))
    first = Recorder(isolated_kafka)
    members = [first]
    try:
        _step_until(members, lambda: first.partitions == partitions, "the first member's join")
        job = ClapJob.objects.create(owner="anon:x", claps=1)
        write = recorder_module.record

        def revoked_while_writing(events):
            # What a rebalance inside poll_batch leaves: the consumer and the member
            # no longer hold the partitions whose events are in hand.
            held = [TopicPartition(isolated_kafka.topics.events, p) for p in first.partitions]
            first.consumer.unassign()
            first._on_revoke(first.consumer, held)
            if database_away:
                raise OperationalError("the database went away")
            return write(events)

        monkeypatch.setattr(recorder_module, "record", revoked_while_writing)
        _running(isolated_kafka, job)
        _step_until(members, lambda: not first.partitions, "the event in hand")
        monkeypatch.setattr(recorder_module, "record", write)
        assert first.db_failures == int(database_away)
        first.close()
        members.remove(first)

        second = Recorder(isolated_kafka)
        members.append(second)
        _step_until(
            members,
            lambda: _recorded(second, messages.RUNNING) == 1,
            "the next holder to read the event again",
        )
        assert ClapJob.objects.get(id=job.id).status == Status.RUNNING
    finally:
        for member in members:
            member.close()


def test_a_recorder_stays_alive_while_its_database_is_away(stack, isolated_kafka, tmp_path):
    job = ClapJob.objects.create(owner="anon:x", claps=1)
    _running(isolated_kafka, job)  # an event it cannot write
    alive = tmp_path / "recorder.alive"
    stack.recorder(
        DATABASE_URL=f"postgres://nobody:none@127.0.0.1:{free_port()}/nothing",
        DATABASE_POOL="false",  # refused at once, not after the pool's 30 s wait
        RECORDER_HEARTBEAT_FILE=str(alive),
        RECORDER_METRICS_PORT="0",
    )
    failures = lambda: stack.log.getvalue().count("); retrying in")  # noqa: E731
    wait_until(lambda: failures() >= 2, timeout=30, what="the recorder to retry the event")
    since = time.time()
    seen = failures()
    wait_until(
        lambda: alive.exists() and alive.stat().st_mtime > since and failures() > seen,
        timeout=30,
        what="a heartbeat while the database is away",
    )
