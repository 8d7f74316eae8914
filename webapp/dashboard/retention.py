from collections import Counter
from datetime import datetime

from webapp.claps.retention import BATCH, delete_in_batches
from webapp.dashboard.models import DeadLetterAction


def prune_dead_letter_actions(
    cutoff: datetime, *, batch: int = BATCH, using: str = "default"
) -> Counter:
    """Remove the records of dead letters handled before the cutoff."""
    actions = DeadLetterAction.objects.using(using)

    def delete(ids: list) -> Counter:
        return Counter(dead_letter_actions=actions.filter(id__in=ids).delete()[0])

    return delete_in_batches(actions.filter(at__lt=cutoff), delete, batch)
