"""On PostgreSQL the site's statements are bound by the server and, once run often on a
connection, prepared (DATABASE_PREPARED_STATEMENTS), through the settings as every
process loads them, against a real server."""

import json
import os
import subprocess
import sys

import pytest

from tests.support.postgres import needs_postgres
from tests.support.workers import REPO
from tools.postgres import temp_postgres

pytestmark = [needs_postgres, pytest.mark.timeout(120)]

# The same statement six times on one connection, then what the server holds prepared
# for that session.
PROBE = """
import json
import django
django.setup()
from django.db import connection
with connection.cursor() as cursor:
    for n in range(6):
        cursor.execute("SELECT %s::integer + 1", [n])
        assert cursor.fetchone()[0] == n + 1
    cursor.execute("SELECT statement FROM pg_prepared_statements")
    print(json.dumps([row[0] for row in cursor.fetchall()]))
"""


@pytest.fixture(scope="module")
def database_url():
    with temp_postgres("clapstream-test-pg-") as server:
        yield server.url()


def _prepared(database_url: str, **env) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=REPO,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "webapp.settings",
            "DEBUG": "true",
            "DATABASE_URL": database_url,
            **env,
        },
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def test_a_statement_run_often_is_prepared(database_url):
    assert _prepared(database_url) == ["SELECT $1::integer + 1"]


def test_they_can_be_turned_off_for_a_pooler(database_url):
    assert _prepared(database_url, DATABASE_PREPARED_STATEMENTS="false") == []
