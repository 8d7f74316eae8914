"""Liveness of the long-running loops (worker, recorder, sampler) for Kubernetes.

A loop touches its heartbeat file while it is healthy; an exec probe checks the age,
naming the file or the environment variable the loop reads it from:

    python -m streams.heartbeat /tmp/recorder.alive --max-age 60
    python -m streams.heartbeat --env RECORDER_HEARTBEAT_FILE
"""

import argparse
import logging
import os
import sys
import time
from pathlib import Path

log = logging.getLogger(__name__)


class Heartbeat:
    """Touches the heartbeat file, at most once per `every` seconds.

    A new one removes the file first: in Kubernetes a restarted container keeps its
    pod's emptyDir, and its predecessor's fresh file would pass this process's probes
    before it had done anything."""

    def __init__(self, path: Path, every: float = 1.0) -> None:
        self.path = path
        self.every = every
        self._last = -every
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("cannot remove the old heartbeat file %s: %s", path, exc)

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m streams.heartbeat",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("file", type=Path, nargs="?")
    where.add_argument("--env", help="environment variable holding the file's path")
    parser.add_argument("--max-age", type=float, default=60.0, help="seconds (default 60)")
    args = parser.parse_args(argv)
    path = args.file or Path(os.environ.get(args.env, ""))
    if not str(path) or str(path) == ".":
        parser.error(f"{args.env} is not set")
    ok, message = check(path, args.max_age)
    print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
