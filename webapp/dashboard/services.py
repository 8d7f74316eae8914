"""Handling dead letters: each is requeued or discarded once, and who did it is kept."""

from django.conf import settings
from django.db import IntegrityError, transaction

from webapp.claps import selectors
from webapp.claps.services import clap_retry
from webapp.dashboard import deadletters
from webapp.dashboard.models import DeadLetterAction


class AlreadyHandled(Exception):
    """Someone requeued or discarded this letter already."""


class NoSuchLetter(LookupError):
    """The dead-letter topic has no message at that position (any more)."""


def dead_letter_handle(*, user, partition: int, offset: int, action: str) -> DeadLetterAction:
    """Requeue (the original job back on the jobs topic) or discard one letter.

    The action row is written first and claims the letter, so two operators never
    requeue it twice; if Kafka then refuses the requeue, the claim is withdrawn."""
    kafka = settings.KAFKA
    letter = deadletters.fetch(kafka, partition, offset)
    if letter is None:
        raise NoSuchLetter(f"no dead letter at {kafka.topics.dlq}[{partition}]@{offset}")
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
        try:
            _requeue(kafka, letter, handled)
        except deadletters.RequeueError:
            handled.delete()
            raise
    return handled


def _requeue(kafka, letter, handled: DeadLetterAction) -> None:
    """A job the site knows as failed is retried as a new job, since its row is final
    and the recorder will not reopen it; anything else goes back to the jobs topic as
    it was."""
    failed = selectors.failed_job(letter.job_id)
    if failed is None:
        deadletters.requeue(kafka, letter)
        return
    handled.resubmitted_as = clap_retry(job=failed).id
    handled.save(update_fields=["resubmitted_as"])
