from django.conf import settings


class ContentSecurityPolicyMiddleware:
    """Sends the site's Content-Security-Policy (no inline scripts anywhere) on every
    response that did not set its own."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = "; ".join(f"{k} {v}" for k, v in settings.CONTENT_SECURITY_POLICY.items())

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        return response
