"""Kafka configuration from the environment: one place builds every librdkafka dict.

Both the web site and the worker read it; nothing here imports Django.
"""

from dataclasses import dataclass, field
from functools import cache

from streams.envvars import ConfigError, env_int, env_secret, env_str

LOCAL_BOOTSTRAP_PORT = 19092  # not 9092, so a Kafka the user already runs is left alone
SECURITY_PROTOCOLS = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"}


@dataclass(frozen=True)
class Topics:
    jobs: str = "clap.jobs"
    events: str = "clap.events"
    dlq: str = "clap.jobs.dlq"
    control: str = "clap.control"
    jobs_partitions: int = 12
    events_partitions: int = 12
    dlq_partitions: int = 1
    dlq_retention_days: int = 30  # the letters in Kafka, and the records of handling them
    control_partitions: int = 1
    replication_factor: int = 1


@dataclass(frozen=True)
class KafkaConfig:
    bootstrap_servers: str
    # Holds the SASL password: kept out of repr (debug pages, diffsettings, logs).
    security: dict[str, str] = field(default_factory=dict, repr=False)
    topics: Topics = field(default_factory=Topics)
    worker_group: str = "clap-workers"
    recorder_group: str = "clap-recorder"

    def common(self) -> dict[str, str]:
        return {"bootstrap.servers": self.bootstrap_servers, **self.security}

    def producer(self, **overrides) -> dict:
        # Idempotent: retries never duplicate or reorder within a partition.
        return {
            **self.common(),
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            **overrides,
        }

    def consumer(self, group_id: str, **overrides) -> dict:
        # At-least-once: offsets are stored by hand after the work is done.
        return {
            **self.common(),
            "group.id": group_id,
            "enable.auto.commit": True,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            **overrides,
        }

    def admin(self, **overrides) -> dict:
        return {**self.common(), **overrides}


def _security_from_env() -> dict[str, str]:
    protocol = env_str("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT").upper()
    if protocol not in SECURITY_PROTOCOLS:
        raise ConfigError(
            f"KAFKA_SECURITY_PROTOCOL={protocol!r} is not one of {sorted(SECURITY_PROTOCOLS)}"
        )
    if protocol == "PLAINTEXT":
        return {}
    security = {"security.protocol": protocol}
    if protocol.startswith("SASL"):
        username = env_str("KAFKA_SASL_USERNAME")
        password = env_secret("KAFKA_SASL_PASSWORD")
        if not username or not password:
            raise ConfigError(f"{protocol} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD")
        security.update(
            {
                "sasl.mechanism": env_str("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
                "sasl.username": username,
                "sasl.password": password,
            }
        )
    ca = env_str("KAFKA_SSL_CA_LOCATION")
    if ca:
        security["ssl.ca.location"] = ca
    return security


def _topics_from_env() -> Topics:
    return Topics(
        jobs=env_str("CLAP_JOBS_TOPIC", "clap.jobs"),
        events=env_str("CLAP_EVENTS_TOPIC", "clap.events"),
        dlq=env_str("CLAP_DLQ_TOPIC", "clap.jobs.dlq"),
        control=env_str("CLAP_CONTROL_TOPIC", "clap.control"),
        jobs_partitions=env_int("CLAP_JOBS_PARTITIONS", 12, minimum=1),
        events_partitions=env_int("CLAP_EVENTS_PARTITIONS", 12, minimum=1),
        dlq_partitions=env_int("CLAP_DLQ_PARTITIONS", 1, minimum=1),
        dlq_retention_days=env_int("DEAD_LETTER_RETENTION_DAYS", 30, minimum=1),
        replication_factor=env_int("KAFKA_REPLICATION_FACTOR", 1, minimum=1),
    )


def from_env() -> KafkaConfig:
    return KafkaConfig(
        bootstrap_servers=env_str("KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{LOCAL_BOOTSTRAP_PORT}"),
        security=_security_from_env(),
        topics=_topics_from_env(),
        worker_group=env_str("WORKER_GROUP", "clap-workers"),
        recorder_group=env_str("RECORDER_GROUP", "clap-recorder"),
    )


@cache
def kafka_config() -> KafkaConfig:
    """The process-wide configuration (read once)."""
    return from_env()
