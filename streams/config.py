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

    def to_env(self) -> dict[str, str]:
        """The environment from which from_env() reads this configuration's broker,
        topics and groups: for the processes a tool or test starts on its own topics.
        The security settings are not in it; children inherit those variables."""
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers,
            **{name: str(getattr(self.topics, attr)) for name, attr in TOPIC_VARIABLES.items()},
            **{name: getattr(self, attr) for name, attr in GROUP_VARIABLES.items()},
        }


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
    defaults = Topics()
    values = {}
    for name, attr in TOPIC_VARIABLES.items():
        default = getattr(defaults, attr)
        if isinstance(default, int):
            values[attr] = env_int(name, default, minimum=1)
        else:
            values[attr] = env_str(name, default)
    return Topics(**values)


# The variables of the topics and groups, beside the Topics/KafkaConfig field they set.
TOPIC_VARIABLES = {
    "CLAP_JOBS_TOPIC": "jobs",
    "CLAP_EVENTS_TOPIC": "events",
    "CLAP_DLQ_TOPIC": "dlq",
    "CLAP_CONTROL_TOPIC": "control",
    "CLAP_JOBS_PARTITIONS": "jobs_partitions",
    "CLAP_EVENTS_PARTITIONS": "events_partitions",
    "CLAP_DLQ_PARTITIONS": "dlq_partitions",
    "DEAD_LETTER_RETENTION_DAYS": "dlq_retention_days",
    "KAFKA_REPLICATION_FACTOR": "replication_factor",
}
GROUP_VARIABLES = {"WORKER_GROUP": "worker_group", "RECORDER_GROUP": "recorder_group"}


def from_env() -> KafkaConfig:
    return KafkaConfig(
        bootstrap_servers=env_str("KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{LOCAL_BOOTSTRAP_PORT}"),
        security=_security_from_env(),
        topics=_topics_from_env(),
        **{
            attr: env_str(name, getattr(KafkaConfig, attr))
            for name, attr in GROUP_VARIABLES.items()
        },
    )


@cache
def kafka_config() -> KafkaConfig:
    """The process-wide configuration (read once)."""
    return from_env()
