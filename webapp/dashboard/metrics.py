"""/metrics in Prometheus text format: the streams' state and this web process's own.

The streams' figures (lag, lag health, KEDA's replica count, jobs) are read at scrape
time from the latest samples and the job rows, so every web replica reports the
same ones and no process has to keep them. Beside them, in the same default
registry, are what only this process knows: its requests by route and the jobs it
accepted. When METRICS_TOKEN is set, a scrape must send it as a bearer token.
"""

import hmac
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Q, Sum
from django.http import HttpResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.utils import floatToGoString

from streams.health import Status as Health
from webapp.claps.models import ClapJob, Status
from webapp.dashboard import overview

DURATION_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800)


def _group_metrics(kafka):
    lag = GaugeMetricFamily(
        "clapstream_consumergroup_lag",
        "Messages the group has yet to consume on the partition: log end minus committed "
        "offset; where it never committed, what auto.offset.reset has it read.",
        labels=["group", "topic", "partition"],
    )
    total = GaugeMetricFamily(
        "clapstream_consumergroup_total_lag",
        "Sum of clapstream_consumergroup_lag over the group's partitions. These figures "
        "are absent while the latest sample is older than 3 sample intervals.",
        labels=["group"],
    )
    produced = GaugeMetricFamily(
        "clapstream_topic_log_end_offset",
        "Log-end offset of the partition: messages ever produced to it.",
        labels=["topic", "partition"],
    )
    committed = GaugeMetricFamily(
        "clapstream_consumergroup_committed_offset",
        "The group's committed offset on the partition (absent: no commits yet).",
        labels=["group", "topic", "partition"],
    )
    members = GaugeMetricFamily(
        "clapstream_consumergroup_members", "Members of the group when sampled.", labels=["group"]
    )
    sampled = GaugeMetricFamily(
        "clapstream_consumergroup_sample_timestamp_seconds",
        "When these figures were sampled (Unix time); old means the sampler is not running.",
        labels=["group"],
    )
    health = GaugeMetricFamily(
        "clapstream_consumergroup_health",
        "Lag health of the group by Burrow's rules over the last samples (its worst "
        "partition): 1 for the current status, 0 for the others.",
        labels=["group", "status"],
    )
    groups = overview.overviews(kafka)
    now = timezone.now()
    for group in groups:
        if group.sampled_at is None:
            continue
        name, topic = group.group, group.topic
        sampled.add_metric([name], group.sampled_at.timestamp())
        if group.stale(now):
            # Out-of-date figures left out: an autoscaler on them would hold a queue
            # at the lag it had when the sampler stopped. Without them an HPA holds
            # its replicas, and the sample's age (above) raises the alert.
            continue
        for row in group.partitions:
            partition = str(row.offsets.partition)
            lag.add_metric([name, topic, partition], row.unread)
            produced.add_metric([topic, partition], row.offsets.log_end)
            if row.offsets.committed is not None:
                committed.add_metric([name, topic, partition], row.offsets.committed)
        total.add_metric([name], group.total_lag)
        if group.members is not None:
            members.add_metric([name], group.members)
        for status in Health:
            health.add_metric([name, status.name], float(group.health.status == status))
    workers = overview.workers_overview(kafka, groups)
    keda = _keda_metrics(workers, now)
    return [lag, total, produced, committed, members, sampled, health, *keda]


def _keda_metrics(workers: overview.GroupOverview, now):
    scaling = settings.KEDA
    labels = [workers.group]
    desired = GaugeMetricFamily(
        "clapstream_keda_desired_replicas",
        "Workers KEDA's Kafka scaler asks for on the latest sample (its formula, the "
        "ScaledObject's numbers).",
        labels=["group"],
    )
    bounds = [
        GaugeMetricFamily(
            f"clapstream_keda_{end}_replicas",
            f"The ScaledObject's {end}ReplicaCount.",
            labels=["group"],
        )
        for end in ("min", "max")
    ]
    bounds[0].add_metric(labels, scaling.min_replicas)
    bounds[1].add_metric(labels, scaling.max_replicas)
    if not workers.stale(now):
        desired.add_metric(labels, overview.autoscaling(settings.KAFKA, scaling, workers).desired)
    return [desired, *bounds]


def _job_metrics():
    jobs = GaugeMetricFamily("clapstream_clap_jobs", "Clap jobs by status.", labels=["status"])
    counts = dict(ClapJob.objects.values_list("status").annotate(n=Count("id")).order_by())
    for status in Status:
        jobs.add_metric([status.value], counts.get(status, 0))
    done = ClapJob.objects.filter(status=Status.DONE, finished_at__isnull=False).annotate(
        duration=ExpressionWrapper(F("finished_at") - F("created_at"), output_field=DurationField())
    )
    figures = done.aggregate(
        count=Count("id"),
        claps=Sum("claps", default=0),
        seconds=Sum("duration"),
        **{
            f"le{i}": Count("id", filter=Q(duration__lte=timedelta(seconds=bound)))
            for i, bound in enumerate(DURATION_BUCKETS)
        },
    )
    claps = CounterMetricFamily("clapstream_claps_done", "Claps of the done jobs.")
    claps.add_metric([], figures["claps"])
    duration = HistogramMetricFamily(
        "clapstream_clap_job_duration_seconds",
        "End-to-end time of the done jobs: from accepted to done.",
        buckets=[
            *((floatToGoString(b), figures[f"le{i}"]) for i, b in enumerate(DURATION_BUCKETS)),
            ("+Inf", figures["count"]),
        ],
        sum_value=(figures["seconds"] or timedelta()).total_seconds(),
    )
    return [jobs, claps, duration, *_oldest_metrics()]


def _oldest_metrics():
    oldest = ClapJob.objects.aggregate(
        running=Min("started_at", filter=Q(status=Status.RUNNING)),
        unpublished=Min("created_at", filter=Q(published_at__isnull=True)),
        unpublished_count=Count("id", filter=Q(published_at__isnull=True)),
    )
    running = GaugeMetricFamily(
        "clapstream_clap_job_oldest_running_start_timestamp_seconds",
        "When the longest-running job started (Unix time); absent while none runs.",
    )
    if oldest["running"] is not None:
        running.add_metric([], oldest["running"].timestamp())
    outbox = GaugeMetricFamily(
        "clapstream_outbox_oldest_unpublished_timestamp_seconds",
        "When the oldest job Kafka has not acknowledged yet was accepted (Unix time); "
        "absent while the outbox is empty.",
    )
    if oldest["unpublished"] is not None:
        outbox.add_metric([], oldest["unpublished"].timestamp())
    pending = GaugeMetricFamily(
        "clapstream_outbox_unpublished_jobs",
        "Accepted jobs Kafka has not acknowledged yet (the outbox).",
        value=oldest["unpublished_count"],
    )
    return [running, outbox, pending]


class StreamsCollector:
    def describe(self):
        # Without this, registering would collect once: a database query at import.
        return []

    def collect(self):
        yield from _group_metrics(settings.KAFKA)
        yield from _job_metrics()


REGISTRY.register(StreamsCollector())


def _authorized(request, token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), token.encode())


def metrics(request):
    token = settings.METRICS_TOKEN
    if token and not _authorized(request, token):
        return HttpResponse(
            "a bearer token is required\n",
            status=401,
            content_type="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
