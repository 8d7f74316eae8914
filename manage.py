#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    from django.core.management import execute_from_command_line

    from webapp.core.startup import refusing_bad_configuration

    with refusing_bad_configuration():
        execute_from_command_line(sys.argv)
