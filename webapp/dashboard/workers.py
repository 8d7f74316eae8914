"""Each worker's throughput and current job, read from the recorded job rows: a job
names the worker that last picked it up, and its finish time."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q

from webapp.claps.models import ClapJob, Status

MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)
FINISHED = (Status.DONE, Status.FAILED)


@dataclass(frozen=True)
class CurrentJob:
    id: str
    claps: int
    done: int
    started_at: datetime | None


@dataclass(frozen=True)
class WorkerActivity:
    worker: str
    per_min_last_minute: float  # jobs finished (done or failed) per minute
    per_min_last_hour: float
    current: CurrentJob | None  # the job it started last among those still running


def worker_activity(now: datetime, members: tuple[str, ...] = ()) -> list[WorkerActivity]:
    """Every worker that finished a job in the last hour, runs one now or is a live
    member of the group (`members`, client ids), by name."""
    finished = dict.fromkeys(members, (0, 0))
    rows = (
        ClapJob.objects.filter(status__in=FINISHED, finished_at__gte=now - HOUR)
        .exclude(worker="")
        .values_list("worker")
        .annotate(hour=Count("id"), minute=Count("id", filter=Q(finished_at__gte=now - MINUTE)))
        .order_by()
    )
    finished.update({worker: (minute, hour) for worker, hour, minute in rows})
    current: dict[str, CurrentJob] = {}
    running = ClapJob.objects.filter(status=Status.RUNNING).exclude(worker="")
    for job in running.order_by("started_at").only("id", "worker", "claps", "done", "started_at"):
        current[job.worker] = CurrentJob(str(job.id), job.claps, job.done, job.started_at)
    return [
        WorkerActivity(
            worker=name,
            per_min_last_minute=finished.get(name, (0, 0))[0],
            per_min_last_hour=finished.get(name, (0, 0))[1] / 60,
            current=current.get(name),
        )
        for name in sorted(finished.keys() | current.keys())
    ]
