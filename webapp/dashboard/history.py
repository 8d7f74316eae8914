"""Lag and throughput over a time range, from the group samples, drawn as charts."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache

from streams.throughput import last_per_bucket, max_per_bucket, rates
from webapp.dashboard.charts import Series, line_chart
from webapp.dashboard.models import GroupSample
from webapp.dashboard.watched import sampled_pairs

RANGES = {"1h": timedelta(hours=1), "24h": timedelta(hours=24)}
# A day of samples takes a while to read, and its buckets are minutes wide anyway.
REDRAW_AFTER = {"1h": 0, "24h": 60}  # seconds a drawing is reused
POINTS = 240  # per series: enough for the chart's width, few enough to draw every 5 s


@dataclass(frozen=True)
class Charts:
    lag: str
    throughput: str


def _rows(group: str, topic: str, since: datetime) -> list[tuple[float, int, int]]:
    """(epoch seconds, log end, position) of the group's samples, oldest first."""
    samples = GroupSample.objects.filter(group=group, topic=topic, at__gte=since).order_by("at")
    return [(at.timestamp(), e, p) for at, e, p in samples.values_list("at", "log_end", "position")]


def charts(kafka, range_key: str, now: datetime) -> Charts:
    pairs = sampled_pairs(kafka)
    return cache.get_or_set(
        f"dashboard-charts-{range_key}-" + "-".join(group for group, _ in pairs),
        lambda: _draw(pairs, range_key, now),
        timeout=REDRAW_AFTER[range_key],
    )


def _draw(pairs: list[tuple[str, str]], range_key: str, now: datetime) -> Charts:
    since = now - RANGES[range_key]
    rows = {(group, topic): _rows(group, topic, since) for group, topic in pairs}
    # A young system fills the width with the history it has.
    start = min((r[0][0] for r in rows.values() if r), default=since.timestamp())
    end = now.timestamp()
    width = max(end - start, 1.0) / POINTS
    lag, throughput = [], []
    for (group, topic), samples in rows.items():
        lag.append(
            Series(f"{group} lag", max_per_bucket([(t, e - p) for t, e, p in samples], width))
        )
        produced = last_per_bucket([(t, e) for t, e, _ in samples], width)
        consumed = last_per_bucket([(t, p) for t, _, p in samples], width)
        throughput.append(Series(f"produced to {topic}", rates(produced)))
        throughput.append(Series(f"consumed by {group}", rates(consumed)))
    max_gap = 2 * width + 2 * settings.SAMPLE_INTERVAL
    return Charts(
        lag=line_chart("Lag", "messages", lag, start, end, max_gap),
        throughput=line_chart("Throughput", "messages/s", throughput, start, end, max_gap),
    )
