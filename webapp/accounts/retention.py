from collections import Counter
from datetime import datetime

from django.contrib.sessions.models import Session

from webapp.claps.retention import BATCH, delete_in_batches


def prune_sessions(now: datetime, *, batch: int = BATCH, using: str = "default") -> Counter:
    """Remove the sessions past their expiry (what Django's clearsessions does, in
    batches): every visitor's first request stores one, and nothing else removes them."""
    sessions = Session.objects.using(using)

    def delete(keys: list) -> Counter:
        return Counter(sessions=sessions.filter(session_key__in=keys).delete()[0])

    return delete_in_batches(sessions.filter(expire_date__lt=now), delete, batch)
