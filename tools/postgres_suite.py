"""`make test-postgres`: the whole test suite against a throw-away PostgreSQL cluster,
the production database (`make test` runs it on SQLite). CI runs both.

    python -m tools.postgres_suite [pytest arguments]
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tools.postgres import PostgresError, TempPostgres


def main(argv: list[str]) -> int:
    # Not under the repository: as root the server runs as `postgres`, which must
    # reach its directory.
    root = Path(tempfile.mkdtemp(prefix="clapstream-suite-pg-"))
    server = None
    try:
        server = TempPostgres(root)
        server.start()
        print(f"PostgreSQL on 127.0.0.1:{server.port}; running pytest", flush=True)
        env = {**os.environ, "DATABASE_URL": server.url()}
        return subprocess.call([sys.executable, "-m", "pytest", *argv], env=env)
    except PostgresError as exc:
        print(f"no throw-away PostgreSQL: {exc}", file=sys.stderr)
        return 2
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
