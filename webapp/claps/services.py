"""Writes of the web site. Job *state* is written only by the recorder; the site
creates jobs (the outbox) and asks for cancellation."""

import logging
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from prometheus_client import Counter

from streams import logs, tracing
from webapp.claps.models import ClapJob, IdempotencyKey, Status
from webapp.claps.owners import (
    ADOPTED_FEEDS_KEPT,
    ADOPTED_FEEDS_KEY,
    SESSION_KEY,
    feed_of,
    user_owner,
)
from webapp.claps.publisher import publisher

log = logging.getLogger(__name__)
JOBS_SUBMITTED = Counter(
    "clapstream_jobs_submitted", "Jobs this web process accepted (into the outbox)."
)

IDEMPOTENCY_TTL = timedelta(hours=24)


class JobStateConflict(Exception):
    """The job is not in a state that allows the action."""


class IdempotencyConflict(Exception):
    """An Idempotency-Key already used for a different request."""


def clap_submit(
    *, owner: str, claps: int, note: str = "", fail_at_clap: int | None = None
) -> ClapJob:
    # The job's trace is the submitting request's (or a new one outside a request).
    trace = tracing.current() or tracing.start_trace()
    # One INSERT, committed on its own (no BEGIN and COMMIT round trips) unless a
    # caller's transaction holds it; either way the job is published after commit,
    # never inside: a rolled-back job must not reach the workers.
    job = ClapJob.objects.create(
        owner=owner,
        claps=claps,
        note=note,
        fail_at_clap=fail_at_clap,
        traceparent=trace.traceparent,
    )
    transaction.on_commit(lambda: publisher().publish_job(job))
    JOBS_SUBMITTED.inc()
    with logs.job_context(job_id=str(job.id)), tracing.as_current(trace):
        log.debug("job %s accepted: %d claps", job.id, claps)
    return job


def clap_submit_once(*, owner: str, key: str, fingerprint: str, **request) -> tuple[ClapJob, bool]:
    """clap_submit unless the owner used the key in the last 24 h: then that job.
    Returns (job, created). Raises IdempotencyConflict when the key's request had
    another fingerprint (a different body)."""
    for _ in range(2):
        used = _used_key(owner, key)
        if used is not None and used.created_at >= datetime.now(UTC) - IDEMPOTENCY_TTL:
            if used.fingerprint != fingerprint:
                raise IdempotencyConflict(
                    f"Idempotency-Key {key!r} was used for a different request body "
                    f"(job {used.job_id}); use a new key for a new job"
                )
            return used.job, False
        try:
            with transaction.atomic():
                if used is not None:  # expired: the key starts over
                    used.delete()
                job = clap_submit(owner=owner, **request)
                IdempotencyKey.objects.create(
                    owner=owner, key=key, fingerprint=fingerprint, job=job
                )
            return job, True
        except IntegrityError:
            continue  # a concurrent request with the key won: answer with its job
    raise IdempotencyConflict(f"Idempotency-Key {key!r} is being used concurrently; retry")


def _used_key(owner: str, key: str) -> IdempotencyKey | None:
    return IdempotencyKey.objects.filter(owner=owner, key=key).select_related("job").first()


def forget_idempotency_keys() -> int:
    """Delete the keys older than 24 h; returns how many."""
    cutoff = datetime.now(UTC) - IDEMPOTENCY_TTL
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def clap_cancel(*, job: ClapJob) -> ClapJob:
    """Ask the workers to stop the job; the recorder records it cancelled.

    Raises JobStateConflict for a finished job and PublishError when Kafka does not
    confirm the request."""
    if job.final:
        raise JobStateConflict(f"the job is already {job.status}")
    publisher().publish_cancel(job)
    ClapJob.objects.filter(id=job.id, cancel_requested_at__isnull=True).update(
        cancel_requested_at=datetime.now(UTC)
    )
    job.refresh_from_db()
    return job


def clap_retry(*, job: ClapJob) -> ClapJob:
    """A failed job is retried as a new job with the same request."""
    if job.status != Status.FAILED:
        raise JobStateConflict(f"only failed jobs can be retried; this one is {job.status}")
    return clap_submit(owner=job.owner, claps=job.claps, note=job.note)


def jobs_adopt(*, session, user) -> int:
    """The jobs of an anonymous session become the user's (at login or sign-up), all
    in one transaction; returns how many. Their sockets and pages follow, since both
    check the owner as the signed-in user from then on. A job still running keeps
    naming the anonymous feed in its events (the name travels with the job), so the
    session remembers that feed and the user's feeds follow it too."""
    anon = session.get(SESSION_KEY)
    if not anon:
        return 0
    with transaction.atomic():
        moved = ClapJob.objects.filter(owner=f"anon:{anon}").update(owner=user_owner(user))
    del session[SESSION_KEY]
    if moved:
        adopted = [*session.get(ADOPTED_FEEDS_KEY, []), feed_of(f"anon:{anon}")]
        session[ADOPTED_FEEDS_KEY] = adopted[-ADOPTED_FEEDS_KEPT:]
    return moved
