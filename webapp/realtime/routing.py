from django.urls import path

from webapp.realtime.consumers import ClapJobConsumer
from webapp.realtime.feed import OwnerFeedConsumer
from webapp.realtime.paths import SOCKET_PREFIX

websocket_urlpatterns = [
    path(SOCKET_PREFIX, OwnerFeedConsumer.as_asgi()),
    # Any segment, so a malformed id reaches the consumer and gets its 4404.
    path(f"{SOCKET_PREFIX}<str:job_id>/", ClapJobConsumer.as_asgi()),
]
