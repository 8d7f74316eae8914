"""Liveness for Kubernetes: the poll loop touches a file; a probe checks its age.

python -m worker.liveness    # exit 0 if the worker's heartbeat is fresh, else 1
"""

import logging
import sys
import time
from pathlib import Path

from streams.envvars import ConfigError
from worker.settings import WorkerSettings

log = logging.getLogger(__name__)


class Heartbeat:
    """Touches the heartbeat file, at most once per `every` seconds."""

    def __init__(self, path: Path, every: float = 1.0) -> None:
        self.path = path
        self.every = every
        self._last = -every

    def beat(self) -> None:
        now = time.monotonic()
        if now - self._last < self.every:
            return
        self._last = now
        try:
            self.path.touch()
        except OSError as exc:
            log.warning("cannot touch the heartbeat file %s: %s", self.path, exc)


def check(path: Path, max_age: float, now: float | None = None) -> tuple[bool, str]:
    try:
        age = (time.time() if now is None else now) - path.stat().st_mtime
    except OSError as exc:
        return False, f"no heartbeat: {path}: {exc.strerror}"
    if age > max_age:
        return False, f"stale heartbeat: {path} is {age:.0f} s old (limit {max_age:.0f} s)"
    return True, f"alive: heartbeat {age:.1f} s old"


def main() -> int:
    try:
        settings = WorkerSettings.from_env()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    ok, message = check(settings.heartbeat_file, settings.liveness_seconds)
    print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
