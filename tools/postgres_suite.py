"""`make test-postgres`: the whole test suite against a throw-away PostgreSQL cluster,
the production database (`make test` runs it on SQLite). CI runs both.

    python -m tools.postgres_suite [pytest arguments]
"""

import os
import subprocess
import sys

from tools.postgres import PostgresError, temp_postgres


def main(argv: list[str]) -> int:
    try:
        with temp_postgres("clapstream-suite-pg-") as server:
            print(f"PostgreSQL on 127.0.0.1:{server.port}; running pytest", flush=True)
            env = {**os.environ, "DATABASE_URL": server.url()}
            return subprocess.call([sys.executable, "-m", "pytest", *argv], env=env)
    except PostgresError as exc:
        print(f"the throw-away PostgreSQL failed: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
