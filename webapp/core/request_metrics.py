"""Web request latency by route, for /metrics.

The route label is the URL pattern that resolved (`api/claps/<pk>/` style), never
the raw path, so a label holds a bounded set of values whatever clients send."""

import re
import time

from prometheus_client import Histogram

REQUEST_SECONDS = Histogram(
    "clapstream_http_request_duration_seconds",
    "Time this web process took to answer an HTTP request, by resolved route.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "(unmatched)"  # no URL pattern resolved: a 404, or answered before routing
NAMED_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


def route_of(request) -> str:
    """The resolved pattern, regex routes (DRF's routers) written like path() ones:
    `api/claps/(?P<pk>[^/.]+)/$` becomes `api/claps/<pk>/`."""
    match = getattr(request, "resolver_match", None)
    if match is None or not match.route:
        return UNMATCHED
    return NAMED_GROUP.sub(r"<\1>", match.route).replace("^", "").removesuffix("$")


class RequestMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        method = request.method if request.method in METHODS else "other"
        REQUEST_SECONDS.labels(method, route_of(request), str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response
