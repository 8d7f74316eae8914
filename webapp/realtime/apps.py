from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "webapp.realtime"
    label = "realtime"
    verbose_name = "Live job updates"
