"""When, at which commit and at what load a figure was measured: printed beside it."""

import os
import subprocess
from datetime import UTC, datetime


def commit() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
        return done.stdout.strip()

    sha = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = git("status", "--porcelain", "--untracked-files=no")
    return sha + (" with uncommitted changes" if changed else "")


def load_average() -> str:
    return " / ".join(f"{v:.2f}" for v in os.getloadavg())


def stamp(when: str, at_commit: bool = True) -> str:
    """A line such as "began 2026-11-28 07:08:27 UTC at commit c0a1b9a; load ..."."""
    now = datetime.now(UTC)
    where = f" at commit {commit()}" if at_commit else ""
    return f"{when} {now:%Y-%m-%d %H:%M:%S} UTC{where}; load average (1/5/15 min) {load_average()}"
