"""Limits on login, sign-up and password-reset attempts, with DRF's throttles: the
same rate format and cache-kept history as the submission limit. The cache is the
database (settings.CACHES), so every web process counts against the same limits."""

import hashlib
import math
import unicodedata

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from webapp.core.client_address import client_key


class AccountThrottle(SimpleRateThrottle):
    """Attempts per account, whichever address they come from."""

    scope = "login-account"

    def get_rate(self):
        return settings.LOGIN_RATE_PER_ACCOUNT

    def get_cache_key(self, request, view):
        # The account the attempt is about: the signed-in user's (who must give their
        # password to delete it), else the name typed, normalised as the login form
        # does (NFKC), or a full-width "c" in "carol" would buy a fresh allowance.
        if request.user.is_authenticated:
            username = request.user.get_username()
        else:
            username = unicodedata.normalize("NFKC", request.POST.get("username", ""))
        username = username.strip().casefold()
        if not username:
            return None
        ident = hashlib.sha256(username.encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AddressThrottle(SimpleRateThrottle):
    """Attempts per client address, as webapp.core.client_address finds it."""

    scope = "accounts-address"

    def get_rate(self):
        return settings.LOGIN_RATE_PER_ADDRESS

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": client_key(request)}


def refusal(request, throttles) -> int | None:
    """Seconds to wait if any throttle refuses this request, else None."""
    waits = [t.wait() or 1 for t in throttles if not t.allow_request(request, None)]
    return math.ceil(max(waits)) if waits else None
