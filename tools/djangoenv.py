"""Django for the tools that drive it: its settings, ORM and migrations."""

import os

import django


def setup_django(settings_module: str = "webapp.settings") -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    django.setup()
