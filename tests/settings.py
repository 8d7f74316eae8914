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

# A file database per test run, so subprocesses (the recorder) see the same data and
# parallel runs never share one.
DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}  # noqa: F405
