from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "webapp.dashboard"
    label = "dashboard"
    verbose_name = "Streams"

    def ready(self):
        from webapp.dashboard import checks  # noqa: F401 - registers the deploy check
