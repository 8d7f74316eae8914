import subprocess
import sys
from pathlib import Path

import pytest

from streams.config import KafkaConfig, Topics, from_env
from streams.envvars import ConfigError, env_bool, env_int, env_secret


def _import_settings(env):
    base = {"PATH": "/usr/bin:/bin", "DEBUG": "false"}
    return subprocess.run(
        [sys.executable, "-c", "import webapp.settings"],
        env={**base, **env},
        capture_output=True,
        text=True,
        check=False,
    )


ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "command",
    [
        ["manage.py", "record_events"],
        ["-m", "webapp.server", "-b", "127.0.0.1", "-p", "0", "webapp.asgi:application"],
    ],
    ids=["a manage.py command", "the web server"],
)
def test_a_process_with_bad_configuration_exits_2_and_says_what(command):
    result = subprocess.run(
        [sys.executable, *command],
        env={"PATH": "/usr/bin:/bin", "DEBUG": "true", "WEB_THREADS": "many"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "bad configuration: WEB_THREADS='many' is not an integer" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_refuses_the_default_secret():
    result = _import_settings({"ALLOWED_HOSTS": "example.org"})
    assert result.returncode != 0
    assert "SECRET_KEY is the built-in default" in result.stderr


def test_production_refuses_empty_allowed_hosts():
    result = _import_settings({"SECRET_KEY": "x" * 50})
    assert result.returncode != 0
    assert "ALLOWED_HOSTS is empty" in result.stderr


def test_production_starts_when_configured(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s" * 50 + "\n")
    result = _import_settings({"SECRET_KEY_FILE": str(secret), "ALLOWED_HOSTS": "example.org"})
    assert result.returncode == 0, result.stderr


def test_persistent_database_connections_are_refused(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s" * 50)
    env = {"SECRET_KEY_FILE": str(secret), "ALLOWED_HOSTS": "example.org"}
    result = _import_settings({**env, "DATABASE_CONN_MAX_AGE": "60"})
    assert result.returncode != 0
    assert "DATABASE_CONN_MAX_AGE is not supported" in result.stderr
    probe = "import webapp.settings as s; print(s.DATABASES['default']['CONN_MAX_AGE'])"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env={"PATH": "/usr/bin:/bin", "DEBUG": "false", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "0"


def test_secret_file_wins_over_plain_value(tmp_path, monkeypatch):
    path = tmp_path / "pw"
    path.write_text("from-file\n")
    monkeypatch.setenv("PW", "plain")
    monkeypatch.setenv("PW_FILE", str(path))
    assert env_secret("PW") == "from-file"


def test_an_empty_secret_file_is_refused_not_taken_for_no_secret(tmp_path, monkeypatch):
    # An empty METRICS_TOKEN would leave /metrics open to anyone.
    path = tmp_path / "metrics-token"
    path.write_text("\n")
    monkeypatch.setenv("METRICS_TOKEN_FILE", str(path))
    with pytest.raises(ConfigError, match=r"METRICS_TOKEN_FILE=.* is empty"):
        env_secret("METRICS_TOKEN")


@pytest.mark.parametrize("raw", ["maybe", "2"])
def test_bad_boolean_fails_loudly(monkeypatch, raw):
    monkeypatch.setenv("FLAG", raw)
    with pytest.raises(ConfigError, match="FLAG"):
        env_bool("FLAG", False)


def test_bad_integer_fails_loudly(monkeypatch):
    monkeypatch.setenv("N", "twelve")
    with pytest.raises(ConfigError, match="N='twelve' is not an integer"):
        env_int("N", 1)
    monkeypatch.setenv("N", "0")
    with pytest.raises(ConfigError, match="below the minimum"):
        env_int("N", 1, minimum=1)


def test_kafka_config_round_trips_through_its_environment(monkeypatch):
    config = KafkaConfig(
        bootstrap_servers="10.0.0.1:9092",
        topics=Topics(
            jobs="a.jobs",
            events="a.events",
            dlq="a.dlq",
            control="a.control",
            jobs_partitions=3,
            events_partitions=5,
            dlq_partitions=2,
            replication_factor=3,
        ),
        worker_group="a-workers",
        recorder_group="a-recorder",
    )
    for name, value in config.to_env().items():
        monkeypatch.setenv(name, value)
    assert from_env() == config
