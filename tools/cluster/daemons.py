"""Background processes that outlive the command that started them, tracked by pid files.

Each daemon runs in its own session (so its process group id is its pid) with its
output in a log file. `stop_all` signals whole process groups, newest first, and only
those whose pid still runs the command that was recorded (a pid may be reused).
"""

import contextlib
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from streams.lifetime import die_with_parent
from tools.processes import pid_alive


@dataclass(frozen=True)
class Record:
    name: str
    pid: int
    argv: list[str]
    started: float
    log: str

    def alive(self) -> bool:
        if not pid_alive(self.pid) or _state(self.pid) in (None, "Z"):
            return False
        try:
            program = Path(f"/proc/{self.pid}/cmdline").read_bytes().split(b"\0")[0]
        except OSError:
            return False
        # Empty for a moment while the new program is being exec'd.
        return program in (b"", self.argv[0].encode())


class Daemons:
    def __init__(self, state: Path, tied: bool = False):
        """tied: the daemons die with this process (tests); otherwise they outlive it."""
        self.pids = state / "pids"
        self.logs = state / "logs"
        self.tied = tied

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Record:
        self.pids.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        log = self.logs / f"{name}.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                argv,
                env={**os.environ, **(env or {})},
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=die_with_parent if self.tied else None,
            )
        record = Record(name, proc.pid, argv, time.time(), str(log))
        (self.pids / f"{name}.json").write_text(json.dumps(record.__dict__))
        return record

    def records(self) -> list[Record]:
        """Every daemon started and not yet stopped, oldest first."""
        if not self.pids.is_dir():
            return []
        found = [Record(**json.loads(p.read_text())) for p in self.pids.glob("*.json")]
        return sorted(found, key=lambda r: r.started)

    def get(self, name: str) -> Record | None:
        path = self.pids / f"{name}.json"
        return Record(**json.loads(path.read_text())) if path.exists() else None

    def stop(self, record: Record, timeout: float = 15.0) -> None:
        if record.alive():
            _signal_group(record.pid, signal.SIGTERM)
            _wait_gone(record.pid, timeout)
        # Whatever is left of the group: a leader that ignored SIGTERM, or children it
        # left behind (a group outlives its leader while members remain).
        if group_members(record.pid):
            _signal_group(record.pid, signal.SIGKILL)
            _wait_gone(record.pid, 5)
        (self.pids / f"{record.name}.json").unlink(missing_ok=True)

    def stop_all(self, timeout: float = 15.0) -> list[str]:
        stopped = []
        for record in reversed(self.records()):
            self.stop(record, timeout)
            stopped.append(record.name)
        return stopped


def _stat(path: Path) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command: state, ppid, pgrp, ..."""
    try:
        return path.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _state(pid: int) -> str | None:
    fields = _stat(Path(f"/proc/{pid}/stat"))
    return fields[0] if fields else None


def group_members(pgid: int) -> list[int]:
    """The pids in process group pgid (read from /proc); a zombie counts as gone."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _stat(stat)
        if fields and int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def _wait_gone(pgid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid_alive(pgid)  # reaps the leader if it is our child
        if not group_members(pgid):
            return
        time.sleep(0.1)


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
