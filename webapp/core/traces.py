"""Every HTTP request in a span: of the trace its caller sent (`traceparent`), or of a
new one. A job submitted by the request keeps that trace (ClapJob.traceparent)."""

from streams import tracing
from webapp.core.request_metrics import route_of


class TraceMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        caller = tracing.TraceContext.parse(request.headers.get(tracing.HEADER))
        method = request.method
        with tracing.span(
            f"HTTP {method}", caller, kind="server", **{"http.request.method": method}
        ) as span:
            response = self.get_response(request)
            route = route_of(request)
            span.rename(f"{method} {route}")
            span.set(**{"http.route": route, "http.response.status_code": response.status_code})
            return response
