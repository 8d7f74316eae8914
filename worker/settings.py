"""The worker's settings, read once from the environment (failing loudly on bad values)."""

import os
import socket
from dataclasses import dataclass
from pathlib import Path

from streams.envvars import ConfigError, env_float, env_int, env_str

GROUP_PROTOCOLS = ("consumer", "classic")


@dataclass(frozen=True)
class WorkerSettings:
    worker_id: str
    instance_id: str = ""  # static membership (group.instance.id) when set
    group_protocol: str = "consumer"  # KIP-848; "classic" = cooperative-sticky rebalancing
    concurrency: int = 1
    backlog_seconds: float = 5.0  # queued work per slot before its partitions are paused
    clap_work_ms: int = 200
    retry_backoff_ms: int = 100
    max_attempts: int = 3
    grace_seconds: float = 20.0
    heartbeat_file: Path = Path("/tmp/clapstream-worker.alive")  # noqa: S108 - a probe file
    liveness_seconds: float = 60.0
    metrics_port: int = 0
    log_level: str = "INFO"

    @classmethod
    def from_env(cls) -> "WorkerSettings":
        protocol = env_str("WORKER_GROUP_PROTOCOL", "consumer").strip().lower()
        if protocol not in GROUP_PROTOCOLS:
            raise ConfigError(
                f"WORKER_GROUP_PROTOCOL={protocol!r} is not one of {', '.join(GROUP_PROTOCOLS)}"
            )
        return cls(
            worker_id=env_str("WORKER_ID") or f"{socket.gethostname()}-{os.getpid()}",
            instance_id=env_str("WORKER_INSTANCE_ID"),
            group_protocol=protocol,
            concurrency=env_int("WORKER_CONCURRENCY", 1, minimum=1),
            backlog_seconds=env_float("WORKER_BACKLOG_SECONDS", 5.0, minimum=0.1),
            clap_work_ms=env_int("CLAP_WORK_MS", 200, minimum=0),
            retry_backoff_ms=env_int("RETRY_BACKOFF_MS", 100, minimum=0),
            max_attempts=env_int("MAX_ATTEMPTS", 3, minimum=1),
            grace_seconds=env_float("WORKER_GRACE_SECONDS", 20.0, minimum=0),
            heartbeat_file=Path(env_str("WORKER_HEARTBEAT_FILE", str(cls.heartbeat_file))),
            liveness_seconds=env_float("WORKER_LIVENESS_SECONDS", 60.0, minimum=1),
            metrics_port=env_int("WORKER_METRICS_PORT", 0, minimum=0),
            log_level=env_str("LOG_LEVEL", "INFO").upper(),
        )
