from django.conf import settings
from rest_framework.authentication import CSRFCheck
from rest_framework.exceptions import PermissionDenied


def enforce_csrf_for_cookie_owners(request) -> None:
    """DRF checks CSRF only for signed-in session users, but an anonymous visitor's
    jobs hang on a session cookie too. A request carrying that cookie (and no token)
    must pass the CSRF check; one without cookies has no ambient authority to abuse."""
    if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
        return
    if request.auth is not None or settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return
    check = CSRFCheck(lambda req: None)
    check.process_request(request._request)
    reason = check.process_view(request._request, None, (), {})
    if reason:
        raise PermissionDenied(f"CSRF Failed: {reason}")
