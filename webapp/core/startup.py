"""Start-up of the site's processes (manage.py and its commands, the web server): bad
configuration ends them with exit code 2 and one line that names what is wrong, as it
ends the worker, rather than with a traceback."""

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ImproperlyConfigured

from streams.envvars import ConfigError


@contextmanager
def refusing_bad_configuration() -> Iterator[None]:
    try:
        yield
    except (ConfigError, ImproperlyConfigured) as exc:
        print(f"bad configuration: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
