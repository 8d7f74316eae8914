"""The short soak, as `make test` runs it: about 500 jobs through a fresh stack (its
own broker, PostgreSQL, web, recorder and workers) while each kind of fault strikes
at least once. Nothing accepted may be lost, stuck or completed twice."""

import json
import os
import subprocess
import sys

import pytest

from tests.support.postgres import needs_postgres
from tools.soak.faults import CUT_RECORDER_DB, KILL_WORKER, RESTART_BROKER, RESTART_WEB

pytestmark = [
    needs_postgres,
    pytest.mark.timeout(480),
]


def test_the_short_soak_loses_nothing(tmp_path):
    report_file = tmp_path / "soak.json"
    with subprocess.Popen(
        [sys.executable, "-m", "tools.soak", "--short", "--json", str(report_file)],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "webapp.settings", "DEBUG": "true"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as soak:
        try:
            said, _ = soak.communicate(timeout=400)
        except subprocess.TimeoutExpired:
            soak.terminate()  # it stops its broker, database and processes on SIGTERM
            said, _ = soak.communicate(timeout=60)
    assert report_file.exists(), said
    report = json.loads(report_file.read_text())
    outcome = report["outcome"]

    assert outcome["lost"] == [], said
    assert (outcome["stuck"], outcome["completed_twice"]) == (0, 0), said
    assert outcome["accepted"] == report["plan"]["jobs"], said
    assert outcome["dlq"] >= report["plan"]["poison"], said
    kinds = {fault["kind"] for fault in report["faults"]}
    assert kinds == {KILL_WORKER, RESTART_WEB, CUT_RECORDER_DB, RESTART_BROKER}, said
    assert report["fault_errors"] == [], said
    assert soak.returncode == 0, said
