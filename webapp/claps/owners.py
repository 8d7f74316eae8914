"""Who owns a job: the signed-in user, or the anonymous browser session."""

import hashlib
import secrets

SESSION_KEY = "clap_owner"
# The feeds of the anonymous owners whose jobs the signed-in user adopted: a job
# running then names that feed in its events to its end (see jobs_adopt).
ADOPTED_FEEDS_KEY = "clap_adopted_feeds"
ADOPTED_FEEDS_KEPT = 5


def user_owner(user) -> str:
    return f"user:{user.pk}"


def owner_of(request) -> str:
    """The caller's owner key, creating an anonymous identity in the session if needed."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user_owner(user)
    session = request.session
    if SESSION_KEY not in session:
        session[SESSION_KEY] = secrets.token_urlsafe(24)
    return f"anon:{session[SESSION_KEY]}"


def known_owner_of(scope_or_request_session, user) -> str | None:
    """The owner key without creating one (for sockets: no identity, no jobs)."""
    if user is not None and user.is_authenticated:
        return user_owner(user)
    anon = scope_or_request_session.get(SESSION_KEY)
    return f"anon:{anon}" if anon else None


def feed_of(owner: str) -> str:
    """The name of the owner's feed that its jobs' messages carry on Kafka: a digest,
    since an anonymous owner key is the session's own secret."""
    return hashlib.sha256(owner.encode()).hexdigest()[:40]
