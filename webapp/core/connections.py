"""Database connections under the ASGI server.

Django runs each HTTP request's synchronous code on a thread of its own, so a
connection kept open after the request (CONN_MAX_AGE) would never be used again: it
would only hold a file or a server slot until collected. The socket consumers' calls
share one thread per process, and there a kept connection saves a connect per call.
So the server closes a request's connections when it finishes, and keeps the rest.
"""

from django.core.signals import request_finished
from django.db import connections


def close_request_connections(**_) -> None:
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:  # a test's transaction is not ours to end
            connection.close()


def close_connections_after_requests() -> None:
    request_finished.connect(close_request_connections, dispatch_uid=__name__)
