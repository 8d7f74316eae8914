"""Django settings, all from the environment, with defaults that run a fresh checkout.

DEBUG is off unless asked for; with DEBUG off the site refuses to start on the
default secret key or an empty ALLOWED_HOSTS (see `_refuse_unsafe_production`).
"""

import contextlib
import ipaddress
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from streams.config import kafka_config
from streams.envvars import env_bool, env_float, env_int, env_list, env_secret, env_str
from streams.keda import scaling_from_env
from streams.logs import django_logging, log_format_from_env

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
with contextlib.suppress(OSError):  # read-only in containers, where it is not used
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DEFAULT_SECRET_KEY = "insecure-local-only-secret-key"  # noqa: S105 - refused when DEBUG is off

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_secret("SECRET_KEY", DEFAULT_SECRET_KEY)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")


def _refuse_unsafe_production() -> None:
    if DEBUG:
        return
    if SECRET_KEY == DEFAULT_SECRET_KEY or not SECRET_KEY:
        raise ImproperlyConfigured(
            "DEBUG is off but SECRET_KEY is the built-in default: set SECRET_KEY "
            "(or SECRET_KEY_FILE) to a long random value"
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "DEBUG is off but ALLOWED_HOSTS is empty: set ALLOWED_HOSTS to the site's host names"
        )


_refuse_unsafe_production()

INSTALLED_APPS = [
    "daphne",  # before staticfiles, so runserver is daphne's
    "webapp.dashboard",  # before admin: its admin/index.html links the Streams pages
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "webapp.core",
    "webapp.claps",
    "webapp.realtime",
    "webapp.accounts",
    "webapp.pages",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise: static files are not timed or traced, every routed request is.
    "webapp.core.request_metrics.RequestMetricsMiddleware",
    "webapp.core.traces.TraceMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "webapp.core.security.ContentSecurityPolicyMiddleware",
]

# Browser security. Behind TLS (the default without DEBUG) cookies are secure, HSTS
# is on and plain HTTP is redirected, except the probes and the metrics scrape.
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
BEHIND_TLS = env_bool("BEHIND_TLS", not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = BEHIND_TLS
SESSION_COOKIE_HTTPONLY = True
SESSION_ENGINE = "webapp.core.sessions"  # Django's table, read with one plain query
SECURE_SSL_REDIRECT = BEHIND_TLS
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if BEHIND_TLS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Joining the browsers' preload list is a commitment an operator opts into.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
if env_bool("TRUST_X_FORWARDED_PROTO", BEHIND_TLS):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "media-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

ROOT_URLCONF = "webapp.urls"
ASGI_APPLICATION = "webapp.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "webapp" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# No persistent connections (CONN_MAX_AGE 0): a request or a socket's look-up gives
# its connection back when it ends, on PostgreSQL to the process's pool below (Django
# refuses a pool with persistent connections). The long-running processes (worker,
# recorder, sampler) hold their connection anyway: CONN_MAX_AGE only governs
# connections opened for requests.
if env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0):
    raise ImproperlyConfigured(
        "DATABASE_CONN_MAX_AGE is not supported: the site gives each connection back when "
        "its request ends (to a pool on PostgreSQL); leave it unset (0)"
    )
DATABASES = {
    "default": dj_database_url.parse(
        env_secret("DATABASE_URL", f"sqlite:///{VAR_DIR / 'clapstream.sqlite3'}"),
        conn_max_age=0,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    if env_bool("DATABASE_POOL", True):
        # A pool per process instead of a new connection for every request and socket
        # look-up (with SCRAM authentication each costs milliseconds of CPU); Django
        # returns the connection to the pool where it would have closed it.
        _options["pool"] = {
            "min_size": 2,
            "max_size": env_int("DATABASE_POOL_SIZE", 10, minimum=1),
        }
    if env_bool("DATABASE_PREPARED_STATEMENTS", True):
        # Values bound by the server rather than quoted into the SQL by Python, and a
        # statement run 5 times on a connection prepared: the server parses and plans
        # it once. The recorder's and the publisher's updates and the API's insert run
        # thousands of times a minute (docs/benchmarks.md). A pooler in transaction
        # mode that does not track prepared statements cannot carry them: turn it off.
        _options.update(server_side_binding=True, prepare_threshold=5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several local processes share the file: wait for locks instead of failing,
    # and use WAL so readers never block the recorder's writes.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Only the hashed names (every page refers to its static files through them): the
# image then carries one copy of each file instead of two.
WHITENOISE_KEEP_ONLY_HASHED_FILES = True

# In-memory channel layer: each web replica only serves its own sockets, and its
# relay reads every partition of clap.events, so no shared layer (Redis) is needed.
CHANNEL_LAYERS = {"default": {"BACKEND": "webapp.realtime.layers.InMemoryChannelLayer"}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First: a bad token is then a 401 with WWW-Authenticate, not a 403.
        "webapp.accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
}
# The database is the cache every web process shares: the throttles' histories.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "clapstream_cache",  # created by the accounts app's migration
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    }
}
# Admission (webapp.claps.admission), "N/sec|min|hour|day" each, empty for no limit.
CLAP_SUBMIT_RATE = env_str("CLAP_SUBMIT_RATE", "120/min")  # per owner
CLAP_ADDRESS_RATE = env_str("CLAP_ADDRESS_RATE", "600/min")  # per client address
CLAP_ADMISSION_RATE = env_str("CLAP_ADMISSION_RATE", "30000/min")  # the whole site
# Peers whose X-Forwarded-For names the client (an ingress, a load balancer): CIDRs,
# for every limit per client address (webapp.core.client_address).
try:
    TRUSTED_PROXIES = [ipaddress.ip_network(n, strict=False) for n in env_list("TRUSTED_PROXIES")]
except ValueError as exc:
    raise ImproperlyConfigured(f"TRUSTED_PROXIES: {exc}") from None
if "NUM_PROXIES" in os.environ:  # the login limits' own rule, before TRUSTED_PROXIES
    raise ImproperlyConfigured("NUM_PROXIES is gone: list your proxies' CIDRs in TRUSTED_PROXIES")
# HTTP requests a web process serves at once, each on a thread of its pool
# (webapp/core/http_threads.py); each may hold a database connection, so keep it
# below DATABASE_POOL_SIZE minus 4 (the relay and the publisher hold one each for
# good, the readiness and the /metrics threads one each while they answer); the rest
# serve the sockets' look-ups.
WEB_THREADS = env_int("WEB_THREADS", 4, minimum=1)
CLAP_API_MAX_BODY = env_int("CLAP_API_MAX_BODY", 4096, minimum=256)
SPECTACULAR_SETTINGS = {
    "TITLE": "Clapstream API",
    "DESCRIPTION": "Submit clap jobs and follow them through Kafka.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",  # served from our static files: the site works offline
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "webapp.claps.api.schema.require_submission_body",
    ],
}

# Accounts: attempt limits ("N/sec|min|hour"), password-reset mail, and retention.
LOGIN_URL, LOGIN_REDIRECT_URL, LOGOUT_REDIRECT_URL = "login", "home", "home"
LOGIN_RATE_PER_ACCOUNT = env_str("LOGIN_RATE_PER_ACCOUNT", "5/min")
LOGIN_RATE_PER_ADDRESS = env_str("LOGIN_RATE_PER_ADDRESS", "20/min")
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST or not DEBUG
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Clapstream <noreply@localhost>")
JOB_RETENTION_DAYS = env_int("JOB_RETENTION_DAYS", 30, minimum=1)

KAFKA = kafka_config()
DEAD_LETTER_RETENTION_DAYS = KAFKA.topics.dlq_retention_days  # the topic's retention too

# The recorder: how often it republishes the outbox, and its liveness file.
OUTBOX_SWEEP_SECONDS = env_float("OUTBOX_SWEEP_SECONDS", 5.0, minimum=0.1)
RECORDER_HEARTBEAT_FILE = env_str(
    "RECORDER_HEARTBEAT_FILE",
    "/tmp/clapstream-recorder.alive",  # noqa: S108 - a probe file, not data
)
READINESS_TIMEOUT = env_int("READINESS_TIMEOUT_MS", 2000, minimum=100) / 1000
READINESS_REUSE = env_int("READINESS_REUSE_MS", 1000, minimum=0) / 1000

# Streams dashboard: the lag sampler, /metrics and the autoscaling panel.
SAMPLE_INTERVAL = env_float("SAMPLE_INTERVAL", 5.0, minimum=0.5)  # seconds
SAMPLE_RETENTION_HOURS = env_int("SAMPLE_RETENTION_HOURS", 24, minimum=1)
SAMPLER_HEARTBEAT_FILE = env_str("SAMPLER_HEARTBEAT_FILE")  # touched every loop, for probes
METRICS_TOKEN = env_secret("METRICS_TOKEN")  # bearer token /metrics requires; empty: none
RECORDER_METRICS_PORT = env_int("RECORDER_METRICS_PORT", 0, minimum=0)  # 0: no endpoint
# The ScaledObject's numbers: the panel's replica count and the local autoscaler.
KEDA = scaling_from_env(KAFKA.topics.jobs_partitions)

LOG_FORMAT = log_format_from_env()  # plain | json: one object per line
LOGGING = django_logging(env_str("LOG_LEVEL", "INFO"), LOG_FORMAT)
