"""/metrics in Prometheus text format, from the latest samples and the job rows.

Everything is read at scrape time by one collector, so any number of web replicas
report the same figures and no process has to keep counters. When METRICS_TOKEN is
set, a scrape must send it as a bearer token.
"""

import hmac
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.http import HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.utils import floatToGoString

from webapp.claps.models import ClapJob, Status
from webapp.dashboard.models import GroupSample, PartitionSample
from webapp.dashboard.watched import reset_policy, sampled_pairs

DURATION_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800)


def _offset_metrics(kafka):
    lag = GaugeMetricFamily(
        "clapstream_consumergroup_lag",
        "Messages the group has yet to consume on the partition: log end minus committed "
        "offset; where it never committed, what auto.offset.reset has it read.",
        labels=["group", "topic", "partition"],
    )
    total = GaugeMetricFamily(
        "clapstream_consumergroup_lag_total",
        "Sum of clapstream_consumergroup_lag over the group's partitions.",
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
    for group, topic in sampled_pairs(kafka):
        latest = GroupSample.objects.filter(group=group, topic=topic).order_by("-at").first()
        if latest is None:
            continue
        policy = reset_policy(kafka, group)
        rows = PartitionSample.objects.filter(group=group, topic=topic, at=latest.at)
        for row in rows.order_by("partition"):
            labels = [group, topic, str(row.partition)]
            lag.add_metric(labels, row.offsets.unread(policy))
            produced.add_metric([topic, str(row.partition)], row.log_end)
            if row.committed is not None:
                committed.add_metric(labels, row.committed)
        total.add_metric([group], latest.lag)
        if latest.members is not None:
            members.add_metric([group], latest.members)
        sampled.add_metric([group], latest.at.timestamp())
    return [lag, total, produced, committed, members, sampled]


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
    return [jobs, claps, duration]


class StreamsCollector:
    def collect(self):
        yield from _offset_metrics(settings.KAFKA)
        yield from _job_metrics()


registry = CollectorRegistry()
registry.register(StreamsCollector())


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
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
