"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import os

from django.core.asgi import get_asgi_application

from streams import logs, tracing

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
logs.set_process("web")
django_asgi_app = get_asgi_application()
tracing.enable_from_env("web")

# After Django is set up:
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from channels.sessions import SessionMiddlewareStack  # noqa: E402

from webapp.realtime.relay import StartRelay  # noqa: E402
from webapp.realtime.routing import websocket_urlpatterns  # noqa: E402

application = StartRelay(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": AllowedHostsOriginValidator(
                SessionMiddlewareStack(URLRouter(websocket_urlpatterns))
            ),
        }
    )
)
