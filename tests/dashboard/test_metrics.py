"""/metrics reads the latest samples and the job rows."""

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from webapp.claps.models import ClapJob, Status
from webapp.dashboard.models import GroupSample, PartitionSample

pytestmark = pytest.mark.django_db
T0 = datetime(2030, 1, 1, tzinfo=UTC)


def _samples(client) -> dict[tuple, float]:
    text = client.get("/metrics").content.decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _job(status, claps, seconds):
    job = ClapJob.objects.create(owner="anon:m", claps=claps)
    ClapJob.objects.filter(id=job.id).update(
        status=status, created_at=T0, finished_at=T0 + timedelta(seconds=seconds)
    )


def test_job_counts_claps_and_durations(client):
    _job(Status.DONE, 3, 0.8)
    _job(Status.DONE, 2, 7)
    _job(Status.FAILED, 9, 1)
    ClapJob.objects.create(owner="anon:m", claps=1)
    samples = _samples(client)
    assert samples[("clapstream_clap_jobs", (("status", "done"),))] == 2
    assert samples[("clapstream_clap_jobs", (("status", "queued"),))] == 1
    assert samples[("clapstream_clap_jobs", (("status", "failed"),))] == 1
    assert samples[("clapstream_claps_done_total", ())] == 5
    bucket = "clapstream_clap_job_duration_seconds_bucket"
    assert samples[(bucket, (("le", "1.0"),))] == 1
    assert samples[(bucket, (("le", "10.0"),))] == 2
    assert samples[(bucket, (("le", "+Inf"),))] == 2
    assert samples[("clapstream_clap_job_duration_seconds_sum", ())] == pytest.approx(7.8)


def test_lag_comes_from_the_latest_sample(client, settings):
    group, topic = settings.KAFKA.worker_group, settings.KAFKA.topics.jobs
    for at, committed in ((T0, 0), (T0 + timedelta(seconds=5), 8)):
        PartitionSample.objects.bulk_create(
            [
                PartitionSample(
                    at=at,
                    group=group,
                    topic=topic,
                    partition=0,
                    first=0,
                    log_end=10,
                    committed=committed,
                ),
                PartitionSample(
                    at=at, group=group, topic=topic, partition=1, first=2, log_end=6, committed=None
                ),
            ]
        )
        GroupSample.objects.create(
            at=at, group=group, topic=topic, log_end=16, position=committed + 2, members=1
        )
    samples = _samples(client)
    lag = "clapstream_consumergroup_lag"
    assert samples[(lag, (("group", group), ("partition", "0"), ("topic", topic)))] == 2
    # never committed: what auto.offset.reset=earliest will have the group read
    assert samples[(lag, (("group", group), ("partition", "1"), ("topic", topic)))] == 4
    assert samples[("clapstream_consumergroup_lag_total", (("group", group),))] == 6
    committed = "clapstream_consumergroup_committed_offset"
    assert samples[(committed, (("group", group), ("partition", "0"), ("topic", topic)))] == 8
    assert (committed, (("group", group), ("partition", "1"), ("topic", topic))) not in samples
    assert samples[("clapstream_topic_log_end_offset", (("partition", "1"), ("topic", topic)))] == 6
