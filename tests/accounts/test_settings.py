"""The accounts' settings as production reads them: mail, the shared cache, proxies."""

import json
import subprocess
import sys

SHOW = (
    "import json, webapp.settings as s; print(json.dumps({'mail': s.EMAIL_BACKEND, "
    "'host': s.EMAIL_HOST, 'password': s.EMAIL_HOST_PASSWORD, 'cache': s.CACHES['default'], "
    "'proxies': [str(n) for n in s.TRUSTED_PROXIES], 'retention': s.JOB_RETENTION_DAYS}))"
)


def run_settings(env: dict) -> subprocess.CompletedProcess:
    base = {"PATH": "/usr/bin:/bin", "DEBUG": "false", "SECRET_KEY": "s" * 50}
    return subprocess.run(
        [sys.executable, "-c", SHOW],
        env={"ALLOWED_HOSTS": "example.org", **base, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def settings_with(env: dict) -> dict:
    done = run_settings(env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_production_mails_over_smtp_with_a_mounted_password(tmp_path):
    password = tmp_path / "smtp-password"
    password.write_text("hunter2\n")
    found = settings_with(
        {"EMAIL_HOST": "smtp.example.org", "EMAIL_HOST_PASSWORD_FILE": str(password)}
    )
    assert found["mail"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (found["host"], found["password"]) == ("smtp.example.org", "hunter2")


def test_local_runs_print_mail_to_the_console():
    found = settings_with({"DEBUG": "true"})
    assert found["mail"] == "django.core.mail.backends.console.EmailBackend"


def test_throttles_share_the_database_and_trust_no_proxy_by_default():
    found = settings_with({})
    assert found["cache"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    assert found["proxies"] == []
    assert found["retention"] == 30
    chosen = settings_with({"TRUSTED_PROXIES": "10.0.0.0/8", "JOB_RETENTION_DAYS": "7"})
    assert (chosen["proxies"], chosen["retention"]) == (["10.0.0.0/8"], 7)


def test_the_old_proxy_count_is_refused_not_ignored():
    done = run_settings({"NUM_PROXIES": "1"})
    assert done.returncode != 0
    assert "NUM_PROXIES is gone" in done.stderr and "TRUSTED_PROXIES" in done.stderr


ATTEMPTS = """
import json, django
django.setup()
from django.test import Client
client = Client(REMOTE_ADDR="10.1.1.1")
print(json.dumps([
    client.post("/accounts/login/", {"username": "x", "password": "y"}).status_code
    for _ in range(2)
]))
"""


def test_two_processes_count_against_one_limit(tmp_path):
    """Two web processes on one database: the limit holds across them (the cache
    table comes with the migrations)."""
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "webapp.settings",
        "DEBUG": "true",
        "ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shared.sqlite3'}",
        "LOGIN_RATE_PER_ADDRESS": "3/min",
    }
    run = {"env": env, "capture_output": True, "text": True, "check": False}
    migrated = subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], **run)
    assert migrated.returncode == 0, migrated.stderr
    answers = []
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", ATTEMPTS], **run)
        assert done.returncode == 0, done.stderr
        answers += json.loads(done.stdout.strip().splitlines()[-1])
    assert answers == [200, 200, 200, 429]
