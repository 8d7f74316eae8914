"""API tokens: created on request, stored hashed, revoked by their owner.

A token is 32 random bytes (256 bits) from the secrets module. Such a value cannot be
guessed or brute-forced, so a fast hash is enough: a slow password hash (PBKDF2,
Argon2) exists to protect low-entropy secrets people choose, and would only cost CPU
on every API request. SHA-256 makes a leaked table useless and lets a token be found
by its digest with one indexed lookup.
"""

import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone

from webapp.accounts.models import ApiToken

PREFIX = "cs_"  # recognisable in logs and by secret scanners
LAST_USED_GRANULARITY = timedelta(minutes=1)  # at most one write per token a minute


def digest_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, dict]:
    """A random token, and the fields of its row (what is stored of it)."""
    token = PREFIX + secrets.token_urlsafe(32)
    return token, {"digest": digest_of(token), "prefix": token[: len(PREFIX) + 5]}


def token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """A new token of the user: the row, and the token itself (never stored)."""
    token, fields = new_token()
    return ApiToken.objects.create(user=user, name=name, **fields), token


def token_revoke(*, user, token_id: int) -> bool:
    """Delete one of the user's tokens; False if the user has no such token."""
    deleted, _ = ApiToken.objects.filter(user=user, id=token_id).delete()
    return deleted > 0


def token_owner(token: str) -> tuple | None:
    """(user, token row) for a token of an active user, else None; notes the use."""
    row = ApiToken.objects.select_related("user").filter(digest=digest_of(token)).first()
    if row is None or not row.user.is_active:
        return None
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_GRANULARITY:
        ApiToken.objects.filter(id=row.id).update(last_used_at=now)
    return row.user, row
