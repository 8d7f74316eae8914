from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from webapp.claps.owners import owner_of


class SubmitThrottle(SimpleRateThrottle):
    """Submissions per owner (user or browser session); rate in settings."""

    scope = "submit"

    def get_rate(self):
        return settings.CLAP_SUBMIT_RATE

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": owner_of(request)}
