"""The worker's settings, read once from the environment (failing loudly on bad values).

    WORKER_ID                 worker id in events and logs      (hostname-pid)
    WORKER_INSTANCE_ID        static group membership, e.g. the pod name (unset: dynamic)
    WORKER_GROUP_PROTOCOL     consumer (KIP-848) | classic (cooperative-sticky)  (consumer)
    WORKER_BACKLOG_SECONDS    queued work before the partitions pause            (5)
    CLAP_WORK_MS              duration of one clap                               (200)
    RETRY_BACKOFF_MS          wait after a clap's first failure, then doubling   (100)
    MAX_ATTEMPTS              attempts per clap before the job is dead-lettered  (3)
    WORKER_GRACE_SECONDS      on SIGTERM, how long running claps may take        (20)
    WORKER_HEARTBEAT_FILE     touched by a healthy poll loop  (/tmp/clapstream-worker.alive)
    WORKER_LIVENESS_SECONDS   the liveness probe's limit on the heartbeat's age  (60)
    WORKER_METRICS_PORT       Prometheus endpoint port; unset or 0: none         (0)
    LOG_LEVEL                 DEBUG | INFO | WARNING | ERROR                     (INFO)
    LOG_FORMAT                plain | json (one object per line)                 (plain)

Kafka itself (bootstrap servers, security, topic and group names) comes from
streams.config.
"""

import os
import socket
from dataclasses import dataclass
from pathlib import Path

from streams.envvars import ConfigError, env_float, env_int, env_str
from streams.logs import log_format_from_env
from streams.messages import MAX_WORKER

GROUP_PROTOCOLS = ("consumer", "classic")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default).strip()
    for choice in choices:
        if value.lower() == choice.lower():
            return choice
    raise ConfigError(f"{name}={value!r} is not one of {', '.join(choices)}")


def _worker_id(value: str) -> str:
    """The id every event carries; one the recorder could not store is refused here."""
    if len(value) > MAX_WORKER:
        raise ConfigError(f"WORKER_ID is longer than {MAX_WORKER} characters: {value!r}")
    return value


@dataclass(frozen=True)
class WorkerSettings:
    worker_id: str
    instance_id: str = ""
    group_protocol: str = "consumer"
    backlog_seconds: float = 5.0
    clap_work_ms: int = 200
    retry_backoff_ms: int = 100
    max_attempts: int = 3
    grace_seconds: float = 20.0
    heartbeat_file: Path = Path("/tmp/clapstream-worker.alive")  # noqa: S108 - a probe file
    liveness_seconds: float = 60.0
    metrics_port: int = 0
    log_level: str = "INFO"
    log_format: str = "plain"

    @classmethod
    def from_env(cls) -> "WorkerSettings":
        return cls(
            worker_id=_worker_id(env_str("WORKER_ID") or f"{socket.gethostname()}-{os.getpid()}"),
            instance_id=env_str("WORKER_INSTANCE_ID", cls.instance_id),
            group_protocol=_choice("WORKER_GROUP_PROTOCOL", cls.group_protocol, GROUP_PROTOCOLS),
            backlog_seconds=env_float("WORKER_BACKLOG_SECONDS", cls.backlog_seconds, minimum=0.1),
            clap_work_ms=env_int("CLAP_WORK_MS", cls.clap_work_ms, minimum=0),
            retry_backoff_ms=env_int("RETRY_BACKOFF_MS", cls.retry_backoff_ms, minimum=0),
            max_attempts=env_int("MAX_ATTEMPTS", cls.max_attempts, minimum=1),
            grace_seconds=env_float("WORKER_GRACE_SECONDS", cls.grace_seconds, minimum=0),
            heartbeat_file=Path(env_str("WORKER_HEARTBEAT_FILE", str(cls.heartbeat_file))),
            liveness_seconds=env_float("WORKER_LIVENESS_SECONDS", cls.liveness_seconds, minimum=1),
            metrics_port=env_int("WORKER_METRICS_PORT", cls.metrics_port, minimum=0),
            log_level=_choice("LOG_LEVEL", cls.log_level, LOG_LEVELS),
            log_format=log_format_from_env(),
        )
