"""The settings of every Django process the benchmark starts (the site, the recorders,
Celery's workers): the real settings as production runs them, DEBUG off, plus the
benchmark's URLs (the ceiling view, and the submission view enqueueing with Celery
instead of Kafka). Never used outside the benchmark."""

from webapp.settings import *  # noqa: F403

ROOT_URLCONF = "tools.bench.urls"
DEBUG = False  # measured as it runs in production
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
