"""Handling dead letters: each is requeued or discarded once, and who did it is kept."""

from django.conf import settings
from django.db import IntegrityError, transaction

from streams import messages
from webapp.claps import selectors
from webapp.claps.models import Status
from webapp.claps.services import clap_retry
from webapp.dashboard import deadletters
from webapp.dashboard.models import DeadLetterAction


class AlreadyHandled(Exception):
    """Someone requeued or discarded this letter already."""


class NoSuchLetter(LookupError):
    """The dead-letter topic has no message at that position (any more)."""


class NotRequeueable(Exception):
    """Requeuing this letter would not retry its job; the message says why."""


def dead_letter_handle(*, user, partition: int, offset: int, action: str) -> DeadLetterAction:
    """Requeue (the original job back on the jobs topic) or discard one letter.

    The action row claims the letter, so two operators never requeue it twice. The
    claim and the requeue are one transaction: if the requeue is refused or fails,
    nothing is claimed and the letter can be handled again."""
    kafka = settings.KAFKA
    letter = deadletters.fetch(kafka, partition, offset)
    if letter is None:
        raise NoSuchLetter(f"no dead letter at {kafka.topics.dlq}[{partition}]@{offset}")
    with transaction.atomic():
        try:
            with transaction.atomic():
                handled = DeadLetterAction.objects.create(
                    topic=kafka.topics.dlq,
                    partition=partition,
                    offset=offset,
                    key=letter.job_id[:255],
                    action=action,
                    by=user,
                )
        except IntegrityError:
            raise AlreadyHandled(
                f"{kafka.topics.dlq}[{partition}]@{offset} was handled already"
            ) from None
        if action == DeadLetterAction.Action.REQUEUE:
            _requeue(kafka, letter, handled)
    return handled


def _requeue(kafka, letter, handled: DeadLetterAction) -> None:
    """A job the site knows as failed is retried as a new job, since its row is final
    and the recorder will not reopen it. A message the site made no job for (one too
    malformed to name a job, or a foreign producer's) goes back to the jobs topic as
    it was. Any other job is refused: replayed, it would be performed again and its
    events ignored, its row being final or about to be, or gone (a letter outlives
    its job's retention by up to a log segment)."""
    job = selectors.job_for_operators(letter.job_id)
    if job is not None:
        if job.status != Status.FAILED:
            reason = f"job {job.id} is {job.status}, not failed; only a failed job is retried"
            if not job.final:
                reason += " (its failure is not recorded yet: try again in a moment)"
            raise NotRequeueable(reason)
        handled.resubmitted_as = clap_retry(job=job).id
        handled.save(update_fields=["resubmitted_as"])
        return
    if letter.value is None:
        raise NotRequeueable(
            "the letter holds no message to requeue (it was too large to copy, or empty)"
        )
    if _made_by_the_site(letter.value):
        raise NotRequeueable(
            f"job {letter.job_id} was removed (older than the retention, or its owner's "
            "account was deleted): performed again, nobody would see it"
        )
    deadletters.requeue(kafka, letter)


def _made_by_the_site(value: bytes) -> bool:
    """Whether the message is a job the site published: it names its owner's feed."""
    try:
        return bool(messages.JobRequest.decode(value).feed)
    except messages.MalformedMessage:
        return False
