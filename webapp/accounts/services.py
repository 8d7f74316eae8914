"""Writes of the accounts app that are more than Django's own."""

from collections import Counter

from django.db import transaction

from webapp.claps.owners import user_owner
from webapp.claps.retention import delete_jobs_of


def account_delete(*, user) -> Counter:
    """Remove a user, their API tokens and every job they own; returns what went."""
    removed = delete_jobs_of(user_owner(user))
    with transaction.atomic():
        removed["tokens"] = user.api_tokens.count()
        user.delete()  # tokens cascade
    return removed
