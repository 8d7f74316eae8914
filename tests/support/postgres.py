"""A throw-away PostgreSQL cluster for the tests that need the production database."""

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest

from tools.soak.postgres import MISSING, TempPostgres, server_bindir

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
