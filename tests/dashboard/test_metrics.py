"""/metrics reads the latest samples and the job rows, and times this process's
requests by route."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from streams.health import Status as Health
from streams.keda import KedaScaling
from tests.monitoring import promtool
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


def _sample_lag(settings, *points, partitions=1, owner="worker-1", every=5, start=T0):
    """Samples of the workers' group, `every` seconds apart, from (committed, log_end)
    pairs that each partition shares."""
    group, topic = settings.KAFKA.worker_group, settings.KAFKA.topics.jobs
    for i, (committed, log_end) in enumerate(points):
        at = start + timedelta(seconds=i * every)
        for partition in range(partitions):
            PartitionSample.objects.create(
                at=at,
                group=group,
                topic=topic,
                partition=partition,
                first=0,
                log_end=log_end,
                committed=committed,
                owner=owner,
            )
        GroupSample.objects.create(
            at=at,
            group=group,
            topic=topic,
            log_end=partitions * log_end,
            position=partitions * committed,
            members=1,
        )
    return group


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
    assert samples[("clapstream_consumergroup_total_lag", (("group", group),))] == 6
    committed = "clapstream_consumergroup_committed_offset"
    assert samples[(committed, (("group", group), ("partition", "0"), ("topic", topic)))] == 8
    assert (committed, (("group", group), ("partition", "1"), ("topic", topic))) not in samples
    assert samples[("clapstream_topic_log_end_offset", (("partition", "1"), ("topic", topic)))] == 6


def test_lag_health_is_one_status_per_group(client, settings):
    group = _sample_lag(settings, (0, 100), (10, 120), (20, 140), (30, 160))
    samples = _samples(client)
    health = {
        status.name: samples[
            ("clapstream_consumergroup_health", (("group", group), ("status", status.name)))
        ]
        for status in Health
    }
    assert health == {status.name: float(status == Health.WARN) for status in Health}


def test_a_stuck_member_is_a_stall(client, settings):
    group = _sample_lag(settings, (40, 100), (40, 110), (40, 120), (40, 120))
    key = ("clapstream_consumergroup_health", (("group", group), ("status", "STALL")))
    assert _samples(client)[key] == 1


def test_keda_desired_replicas_follow_the_lag_and_the_scaledobject(client, settings):
    settings.KEDA = KedaScaling(lag_threshold=10, min_replicas=1, max_replicas=3)
    group = _sample_lag(settings, (0, 5), partitions=3)  # lag 15: ceil(15 / 10)
    samples = _samples(client)
    desired = ("clapstream_keda_desired_replicas", (("group", group),))
    assert samples[desired] == 2
    assert samples[("clapstream_keda_max_replicas", (("group", group),))] == 3
    assert samples[("clapstream_keda_min_replicas", (("group", group),))] == 1
    GroupSample.objects.all().delete()
    _sample_lag(settings, (0, 50), partitions=3)  # lag 150: capped at 30, then at max 3
    assert _samples(client)[desired] == 3


def test_an_out_of_date_sample_exports_its_age_but_no_lag(client, settings):
    settings.SAMPLE_INTERVAL = 5
    stopped = datetime.now(UTC) - timedelta(seconds=16)  # more than 3 intervals ago
    group = _sample_lag(settings, (0, 50), start=stopped)
    samples = _samples(client)
    labels = (("group", group),)
    assert samples[("clapstream_consumergroup_sample_timestamp_seconds", labels)] == (
        pytest.approx(stopped.timestamp())
    )
    for name in ("clapstream_consumergroup_total_lag", "clapstream_keda_desired_replicas"):
        assert (name, labels) not in samples
    assert not any(name == "clapstream_consumergroup_lag" for name, _ in samples)
    _sample_lag(settings, (0, 50), start=datetime.now(UTC))  # the sampler is back
    assert _samples(client)[("clapstream_consumergroup_total_lag", labels)] == 50


def test_oldest_running_job_and_outbox(client):
    assert ("clapstream_clap_job_oldest_running_start_timestamp_seconds", ()) not in _samples(
        client
    )
    past = datetime.now(UTC) - timedelta(minutes=5)
    published = ClapJob.objects.create(owner="anon:m", claps=1)
    unpublished = ClapJob.objects.create(owner="anon:m", claps=1)
    ClapJob.objects.create(owner="anon:m", claps=1)  # accepted just now, not published yet
    ClapJob.objects.filter(id=published.id).update(
        published_at=past, status=Status.RUNNING, started_at=past + timedelta(seconds=3)
    )
    ClapJob.objects.filter(id=unpublished.id).update(created_at=past - timedelta(seconds=60))
    samples = _samples(client)
    oldest_start = "clapstream_clap_job_oldest_running_start_timestamp_seconds"
    assert samples[(oldest_start, ())] == past.timestamp() + 3
    oldest_unpublished = "clapstream_outbox_oldest_unpublished_timestamp_seconds"
    assert samples[(oldest_unpublished, ())] == past.timestamp() - 60
    assert samples[("clapstream_outbox_unpublished_jobs", ())] == 2


def test_requests_are_timed_by_route_not_by_path(client, fake_publisher):
    def timed(samples) -> dict[tuple, float]:
        """Request counts by (route, method, status); the registry is the process's."""
        return {
            (labels["route"], labels["method"], labels["status"]): value
            for (name, pairs), value in samples.items()
            if name == "clapstream_http_request_duration_seconds_count"
            for labels in [dict(pairs)]
        }

    before = _samples(client)
    job = uuid.uuid4()
    client.get(f"/api/claps/{job}/")
    client.get("/no/such/page/")
    assert (
        client.post("/api/claps/", {"claps": 2}, content_type="application/json").status_code == 202
    )
    after = _samples(client)
    counts, earlier = timed(after), timed(before)
    assert not [key for key in counts if str(job) in key[0]], "the raw path must never be a label"
    for key in [("api/claps/<pk>/", "GET", "404"), ("(unmatched)", "GET", "404")]:
        assert counts[key] == earlier.get(key, 0) + 1, key
    assert counts[("metrics", "GET", "200")] >= 1
    submitted = ("clapstream_jobs_submitted_total", ())
    assert after[submitted] == before.get(submitted, 0) + 1


def test_metric_names_follow_the_prometheus_conventions(client, settings):
    """promtool's linter over a full scrape: units, _total on counters and only there."""
    _sample_lag(settings, (0, 100), (10, 120))
    _job(Status.DONE, 3, 0.8)
    client.get("/healthz")
    done = promtool.run("check", "metrics", stdin=client.get("/metrics").content)
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
