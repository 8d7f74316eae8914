"""Liveness for Kubernetes: the poll loop touches a file; a probe checks its age,
reading the file and the limit from the worker's own settings.

python -m worker.liveness    # exit 0 if the worker's heartbeat is fresh, else 1
"""

import sys

from streams.envvars import ConfigError
from streams.heartbeat import check
from worker.settings import WorkerSettings


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
