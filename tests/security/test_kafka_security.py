"""Kafka over TLS with SASL/SCRAM, as the prod overlay configures it: the one place
that builds librdkafka configuration puts the right keys in every client's dict,
librdkafka accepts them, and the password shows up nowhere else."""

import ssl

import pytest
from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient

from streams.config import from_env
from streams.envvars import ConfigError

SCRAM = {
    "KAFKA_BOOTSTRAP_SERVERS": "kafka.example.internal:9093",
    "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
    "KAFKA_SASL_USERNAME": "clapstream",
}
PASSWORD = "pw-from-a-mounted-secret"


@pytest.fixture
def scram_env(monkeypatch, tmp_path):
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    for name, value in SCRAM.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "the file wins over this")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD_FILE", str(secret))
    ca = ssl.get_default_verify_paths().cafile
    if ca:
        monkeypatch.setenv("KAFKA_SSL_CA_LOCATION", ca)
    return ca


def test_every_client_gets_tls_and_scram(scram_env):
    kafka = from_env()
    expected = {
        "bootstrap.servers": "kafka.example.internal:9093",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "clapstream",
        "sasl.password": PASSWORD,
    }
    if scram_env:
        expected["ssl.ca.location"] = scram_env
    for built in (kafka.producer(), kafka.consumer("g"), kafka.admin()):
        assert expected.items() <= built.items()
    assert kafka.producer()["enable.idempotence"] is True  # security adds, never replaces


def test_librdkafka_accepts_the_configuration(scram_env):
    kafka = from_env()
    # Built, not connected: librdkafka checks every key and value when a client is made.
    Producer(kafka.producer()).flush(0)
    Consumer(kafka.consumer("g")).close()
    AdminClient(kafka.admin())
    with pytest.raises(KafkaException, match="Unsupported hash function"):  # it checks them
        Producer({**kafka.producer(), "sasl.mechanism": "SCRAM-SHA-1024"})


def test_the_password_is_not_in_the_configurations_repr(scram_env):
    assert PASSWORD not in repr(from_env())


def test_tls_alone_needs_no_credentials(monkeypatch):
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "ssl")
    assert from_env().security == {"security.protocol": "SSL"}


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"KAFKA_SECURITY_PROTOCOL": "TLS"}, "is not one of"),
        ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "needs KAFKA_SASL_USERNAME"),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "u"},
            "KAFKA_SASL_PASSWORD",
        ),
    ],
)
def test_incomplete_security_settings_fail_loudly(monkeypatch, env, words):
    for name in ("KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD", "KAFKA_SASL_PASSWORD_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=words):
        from_env()
