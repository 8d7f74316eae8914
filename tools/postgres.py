"""A throw-away PostgreSQL cluster in a temporary directory, on a free port.

Debian keeps the server binaries off PATH (under /usr/lib/postgresql/<version>/bin).
PostgreSQL refuses to run as root, so as root every server command runs as the
`postgres` OS user through runuser.
"""

import glob
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tools import commands
from tools.ports import free_port

MISSING = "PostgreSQL server binaries not found: install Debian's postgresql package"


class PostgresError(RuntimeError):
    """The temporary cluster cannot be created, started or stopped."""


def server_bindir() -> Path | None:
    """Where initdb and pg_ctl are, or None."""
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    return Path(found[-1]).parent if found else None


def _version(path: str) -> int:
    parts = Path(path).parts
    return int(parts[-3]) if parts[-3].isdigit() else 0


class TempPostgres:
    USER = "clapstream"
    DB = "clapstream"

    def __init__(self, root: Path):
        bindir = server_bindir()
        if bindir is None:
            raise PostgresError(MISSING)
        self.bindir = bindir
        self.root = root
        self.data = root / "pgdata"
        self.port = free_port()
        self.password = secrets.token_urlsafe(16)
        self._as_postgres = os.geteuid() == 0

    def url(self, port: int | None = None) -> str:
        """The database URL, optionally through another port (a proxy)."""
        return f"postgres://{self.USER}:{self.password}@127.0.0.1:{port or self.port}/{self.DB}"

    def _run(self, tool: str, *args: str) -> None:
        argv = [str(self.bindir / tool), *args]
        if self._as_postgres:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        commands.run(argv, PostgresError, what=tool)

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        pwfile = self.root / "pgpass"
        pwfile.write_text(self.password + "\n")
        if self._as_postgres:
            # The postgres user must reach its directory, and read the password once.
            self.root.chmod(0o711)
            shutil.chown(pwfile, "postgres")
            self.data.mkdir(mode=0o700)
            shutil.chown(self.data, "postgres", "postgres")
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            self.USER,
            "--auth=scram-sha-256",
            f"--pwfile={pwfile}",
            "-E",
            "UTF8",
            "--no-instructions",
        )
        pwfile.unlink()
        # A scratch cluster: durability against an OS crash buys nothing here.
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories='' "
            "-c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=200"
        )
        log = str(self.data / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "start")
        self._create_database()

    def _create_database(self) -> None:
        import psycopg

        admin = self.url().rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.DB}"')

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")


@contextmanager
def temp_postgres(prefix: str = "clapstream-pg-") -> Iterator[TempPostgres]:
    """A started cluster in a new temporary directory, stopped and deleted afterwards.
    Not under the repository or a test's tmp_path: as root the server runs as
    `postgres`, which must reach its directory."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    server = None
    try:
        server = TempPostgres(root)
        server.start()
        yield server
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
