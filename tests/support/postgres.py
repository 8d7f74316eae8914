"""PostgreSQL in tests: a throw-away cluster for the tests that need the production
database, and what the tests that run on it under `make test-postgres` use."""

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection

from tools.postgres import MISSING, TempPostgres, server_bindir

# Never skipped in CI, which installs PostgreSQL.
needs_postgres = pytest.mark.skipif(
    server_bindir() is None and not os.environ.get("CI"), reason=MISSING
)


@contextmanager
def temp_postgres():
    """A started cluster, stopped and deleted afterwards."""
    # Not under tmp_path: as root the server runs as `postgres`, which must reach it.
    root = Path(tempfile.mkdtemp(prefix="clapstream-test-pg-"))
    server = TempPostgres(root)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


# Under `make test-postgres`, which runs the whole suite on a throw-away cluster.
on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="runs on PostgreSQL (make test-postgres)"
)


def pool_in_use() -> int:
    """Connections of the process's pool that some thread holds."""
    stats = connection.pool.get_stats()
    return stats["pool_size"] - stats["pool_available"]
