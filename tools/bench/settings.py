"""The benchmark's site: the real settings plus one extra URL, the submission view
enqueueing with Celery instead of Kafka. Never used outside the benchmark."""

from webapp.settings import *  # noqa: F403

ROOT_URLCONF = "tools.bench.urls"
DEBUG = False  # measured as it runs in production
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
