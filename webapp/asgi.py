"""ASGI entry point: HTTP through Django on a pool of threads, WebSockets through Channels."""

import os

from django.core.wsgi import get_wsgi_application

from streams import logs, tracing

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
logs.set_process("web")
django_wsgi_app = get_wsgi_application()
tracing.enable_from_env("web")

# After Django is set up:
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from channels.sessions import SessionMiddlewareStack  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import reverse  # noqa: E402

from streams.gcpause import freeze_startup_objects  # noqa: E402
from webapp.claps.publisher import publisher  # noqa: E402
from webapp.core.http_threads import ThreadPoolHTTP  # noqa: E402
from webapp.realtime.relay import start_relay  # noqa: E402
from webapp.realtime.routing import websocket_urlpatterns  # noqa: E402


class StartClients:
    """Starts the process's Kafka clients with the first connection the server takes.

    daphne sends no lifespan events, and starting at import would put Kafka clients in
    every process that imports the application. The first request (a readiness probe,
    a page) is the earliest moment on the server's own event loop:
    - the relay starts there, so it is reading by the time a job's socket asks for its
      snapshot (a job page's request comes before its socket);
    - the publisher starts with the first HTTP request, so its connection and producer
      id are ready before the first submission instead of delaying that job's publish.
      Web processes that share one port get readiness probes on only one of them;
      before this, the first jobs submitted to another waited about a second.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        start_relay()
        if scope["type"] == "http":
            publisher()  # built once; its producer connects in the background
        return await self.app(scope, receive, send)


application = StartClients(
    ProtocolTypeRouter(
        {
            "http": ThreadPoolHTTP(
                django_wsgi_app,
                settings.WEB_THREADS,
                # Liveness alone: no readiness check (a slow Kafka, a flood of public
                # calls) can make a live process miss its liveness probe; nor can a
                # scrape, whose queries grow with the job table, hold up readiness.
                apart=[[reverse("healthz")], [reverse("readyz")], [reverse("metrics")]],
            ),
            "websocket": AllowedHostsOriginValidator(
                SessionMiddlewareStack(URLRouter(websocket_urlpatterns))
            ),
        }
    )
)

# What is alive now (Django, DRF, the apps, the URL patterns) lives as long as the
# process. Full collections walking it were most of a submission's p99 at 50 jobs/s.
freeze_startup_objects()
