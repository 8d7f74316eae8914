from rest_framework.exceptions import Throttled
from rest_framework.throttling import BaseThrottle

from webapp.claps.admission import admit
from webapp.claps.owners import owner_of


class SubmitThrottle(BaseThrottle):
    """Submissions per owner, per client address and for the whole site (rates in
    settings; counts shared by every web process). A refusal is a 429 that says which
    limit, with Retry-After."""

    def allow_request(self, request, view):
        refusal = admit(request, owner_of(request))
        if refusal is not None:
            raise Throttled(refusal.wait, detail=f"Request was throttled: {refusal}.")
        return True
