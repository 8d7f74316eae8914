"""Job state from job events: applied idempotently, in sequence order, batched.

The recorder is the single writer of job state. An event is applied only if its seq
is newer than the last one applied and the job is not final yet, so redelivered,
duplicate and stale events (a zombie worker's, say) change nothing, and a job can be
completed only once.
"""

import logging
from collections import defaultdict
from datetime import UTC, datetime

from django.db import transaction

from streams import messages
from webapp.claps.models import Applause, ClapJob, Status, Transition
from webapp.claps.row_updates import update_each

log = logging.getLogger(__name__)

JOB_FIELDS = [
    "status",
    "done",
    "attempts",
    "partition",
    "offset",
    "worker",
    "error",
    "last_seq",
    "started_at",
    "finished_at",
]
STATUS_OF = {
    messages.RUNNING: Status.RUNNING,
    messages.DONE: Status.DONE,
    messages.FAILED: Status.FAILED,
    messages.CANCELLED: Status.CANCELLED,
}


def apply_event(job: ClapJob, event: messages.JobEvent) -> Transition | None:
    """Apply one event to the job in memory; return the transition it makes, if any.

    Returns None and changes nothing when the event is stale or the job is final."""
    if job.final or event.seq <= job.last_seq:
        return None
    at = datetime.fromtimestamp(event.at, UTC)
    new_pickup = messages.pickup_of(event.seq) != messages.pickup_of(job.last_seq)
    job.last_seq = event.seq
    if event.type == messages.PROGRESS:
        job.done = min(event.done or 0, job.claps)
        if new_pickup:  # its pick-up's running event was lost: this one starts it
            job.attempts += 1
            job.worker = event.worker or job.worker
            job.started_at = at
        if job.status == Status.QUEUED:
            job.status = Status.RUNNING
        return None
    if event.type == messages.RUNNING:
        if new_pickup:
            job.attempts += 1
        job.worker = event.worker
        job.done = min(event.done or 0, job.claps)
        job.started_at = at
        if event.partition is not None:
            job.partition, job.offset = event.partition, event.offset
    elif event.type == messages.DONE:
        job.done = job.claps
        job.finished_at = at
    else:  # failed or cancelled
        job.error = event.error
        job.finished_at = at
    job.status = STATUS_OF[event.type]
    return Transition(
        job=job, status=job.status, seq=event.seq, at=at, worker=event.worker, detail=event.error
    )


def record(events: list[messages.JobEvent]) -> int:
    """Apply a batch of events in one transaction; return how many jobs changed."""
    by_job: dict[str, list[messages.JobEvent]] = defaultdict(list)
    for event in events:
        by_job[event.job].append(event)
    with transaction.atomic():
        jobs = {
            str(pk): job
            # Locked in primary-key order, as every writer of many rows locks them.
            for pk, job in ClapJob.objects.select_for_update()
            .order_by("pk")
            .in_bulk(list(by_job))
            .items()
        }
        changed, transitions, applause = [], [], []
        for job_id, job_events in by_job.items():
            job = jobs.get(job_id)
            if job is None:
                log.warning("events for unknown job %s ignored", job_id)
                continue
            before = job.last_seq
            for event in sorted(job_events, key=lambda e: e.seq):
                transition = apply_event(job, event)
                if transition is not None:
                    transitions.append(transition)
                    if event.type == messages.DONE and event.result_deflated is not None:
                        applause.append(Applause(job=job, wav=event.result_deflated))
            if job.last_seq != before:
                changed.append(job)
        update_each(changed, JOB_FIELDS)
        Transition.objects.bulk_create(transitions)
        Applause.objects.bulk_create(applause, ignore_conflicts=True)
    return len(changed)
