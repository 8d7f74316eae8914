"""PostgreSQL in tests: the marks of the tests that start a throw-away cluster
(tools.postgres.temp_postgres) and of those that run on it under `make
test-postgres`, and the pool those see."""

import pytest
from django.db import connection

from tests.support.ci import IN_CI
from tools.postgres import MISSING, server_bindir

# Never skipped in CI, which installs PostgreSQL.
needs_postgres = pytest.mark.skipif(server_bindir() is None and not IN_CI, reason=MISSING)


# Under `make test-postgres`, which runs the whole suite on a throw-away cluster.
on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="runs on PostgreSQL (make test-postgres)"
)


def pool_in_use() -> int:
    """Connections of the process's pool that some thread holds."""
    stats = connection.pool.get_stats()
    return stats["pool_size"] - stats["pool_available"]
