from django.urls import path

from webapp.realtime.consumers import ClapJobConsumer

websocket_urlpatterns = [
    # Any segment, so a malformed id reaches the consumer and gets its 4404.
    path("ws/claps/<str:job_id>/", ClapJobConsumer.as_asgi()),
]
