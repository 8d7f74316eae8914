"""What the dashboard shows about now, read from the latest samples and job rows."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q, Sum

from streams import health, keda
from streams.lag import PartitionOffsets
from streams.throughput import rate
from webapp.claps.models import ClapJob, Status
from webapp.dashboard.models import GroupSample, PartitionSample
from webapp.dashboard.watched import reset_policy, sampled_pairs

HEALTH_WINDOW = 10  # samples per partition, like Burrow's 10 stored commits
RATE_WINDOW = timedelta(minutes=1)
STALE_AFTER_SAMPLES = 3  # intervals without a sample before the latest is out of date


@dataclass(frozen=True)
class PartitionRow:
    offsets: PartitionOffsets
    unread: int
    moved_at: datetime | None  # committed offset last seen changing
    owner: str
    health: health.Verdict


@dataclass(frozen=True)
class GroupOverview:
    group: str
    topic: str
    sampled_at: datetime | None  # None: never sampled
    state: str
    members: int | None
    partitions: list[PartitionRow]
    health: health.Verdict
    produced_per_s: float | None
    consumed_per_s: float | None

    def stale(self, now: datetime) -> bool:
        """Whether the sampler has stopped (or never ran) for this group."""
        return sample_stale(self.sampled_at, now)

    @property
    def total_lag(self) -> int:
        return sum(row.unread for row in self.partitions)

    @property
    def committed(self) -> bool:
        return any(row.offsets.committed is not None for row in self.partitions)


@dataclass(frozen=True)
class JobRates:
    done_per_min: float
    failed_per_min: float
    claps_per_s: float


def _rates(group: str, topic: str, latest: datetime) -> tuple[float | None, float | None]:
    rows = list(
        GroupSample.objects.filter(group=group, topic=topic, at__gte=latest - RATE_WINDOW)
        .order_by("at")
        .values_list("at", "log_end", "position")
    )
    if len(rows) < 2:
        return None, None
    (t0, produced0, consumed0), (t1, produced1, consumed1) = rows[0], rows[-1]
    t0, t1 = t0.timestamp(), t1.timestamp()
    return rate((t0, produced0), (t1, produced1)), rate((t0, consumed0), (t1, consumed1))


def group_overview(kafka, group: str, topic: str) -> GroupOverview:
    samples = GroupSample.objects.filter(group=group, topic=topic).order_by("-at")
    window = list(samples[:HEALTH_WINDOW])
    if not window:
        verdict = health.Verdict(health.Status.NOTFOUND, "not sampled yet")
        return GroupOverview(group, topic, None, "", None, [], verdict, None, None)
    latest = window[0]
    rows = PartitionSample.objects.filter(
        group=group, topic=topic, at__in=[s.at for s in window]
    ).order_by("partition", "at")
    observations, now = defaultdict(list), {}
    for row in rows:
        observations[row.partition].append(
            health.Observation(row.at.timestamp(), row.offsets, row.owner)
        )
        if row.at == latest.at:
            now[row.partition] = row
    verdicts = {p: health.evaluate_partition(observations[p]) for p in now}
    policy = reset_policy(kafka, group)
    partitions = [
        PartitionRow(row.offsets, row.offsets.unread(policy), row.moved_at, row.owner, verdicts[p])
        for p, row in sorted(now.items())
    ]
    produced, consumed = _rates(group, topic, latest.at)
    return GroupOverview(
        group=group,
        topic=topic,
        sampled_at=latest.at,
        state=latest.state,
        members=latest.members,
        partitions=partitions,
        health=health.evaluate_group(verdicts),
        produced_per_s=produced,
        consumed_per_s=consumed,
    )


def sample_stale(sampled_at: datetime | None, now: datetime) -> bool:
    if sampled_at is None:
        return True
    return (now - sampled_at).total_seconds() > STALE_AFTER_SAMPLES * settings.SAMPLE_INTERVAL


def overviews(kafka) -> list[GroupOverview]:
    return [group_overview(kafka, group, topic) for group, topic in sampled_pairs(kafka)]


def workers_overview(kafka, groups: list[GroupOverview]) -> GroupOverview:
    """The worker group's overview among the watched groups'."""
    return next(g for g in groups if g.group == kafka.worker_group)


def autoscaling(kafka, scaling: keda.KedaScaling, workers: GroupOverview) -> keda.Decision:
    """What KEDA would ask for the workers, from the latest sample."""
    return keda.desired_replicas(
        [row.offsets for row in workers.partitions], scaling, reset_policy(kafka, workers.group)
    )


def job_rates(now: datetime, window: timedelta = RATE_WINDOW) -> JobRates:
    """Jobs finished per minute and claps per second over the last `window`."""
    # By status too: finished_at alone has no index of its own, (status, finished_at) has.
    recent = ClapJob.objects.filter(
        status__in=[Status.DONE, Status.FAILED], finished_at__gte=now - window
    )
    totals = recent.aggregate(
        done=Count("id", filter=Q(status=Status.DONE)),
        failed=Count("id", filter=Q(status=Status.FAILED)),
        claps=Sum("claps", filter=Q(status=Status.DONE), default=0),
    )
    minutes = window.total_seconds() / 60
    return JobRates(
        done_per_min=totals["done"] / minutes,
        failed_per_min=totals["failed"] / minutes,
        claps_per_s=totals["claps"] / window.total_seconds(),
    )
