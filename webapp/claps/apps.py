from django.apps import AppConfig


class ClapsConfig(AppConfig):
    name = "webapp.claps"
    label = "claps"
    verbose_name = "Clap jobs"
