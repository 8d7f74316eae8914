"""Test settings: the real settings, with local-development switches on and a private
Kafka address (the broker itself is started lazily by the `kafka` fixture)."""

import os

from tools.ports import free_port

os.environ.setdefault("DEBUG", "true")
if "KAFKA_BOOTSTRAP_SERVERS" not in os.environ:
    # Subprocesses started by tests (workers, recorder) inherit these.
    os.environ["KAFKA_BOOTSTRAP_SERVERS"] = f"127.0.0.1:{free_port()}"
    os.environ["CLAPSTREAM_TEST_BROKER"] = "private"

from webapp.settings import *  # noqa: F403

# A database per test run, so parallel runs never share one; on SQLite a file, so
# subprocesses (the recorder) see the same data.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    _test_name = str(VAR_DIR / f"test-{os.getpid()}.sqlite3")  # noqa: F405
else:
    _test_name = f"test_{DATABASES['default']['NAME']}_{os.getpid()}"  # noqa: F405
DATABASES["default"]["TEST"] = {"NAME": _test_name}  # noqa: F405

# The throttles' shared cache: the database in production; here a directory shared
# with the test's subprocesses (daphne, recorder), which needs no table in every
# test database and can be cleared between tests.
os.environ.setdefault("CLAPSTREAM_TEST_CACHE", str(VAR_DIR / f"test-cache-{os.getpid()}"))  # noqa: F405
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": os.environ["CLAPSTREAM_TEST_CACHE"],
    }
}

# Every readiness call checks: tests change what it checks between calls.
READINESS_REUSE = 0

# Password hashing at production strength costs a second per login; tests log in often.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
