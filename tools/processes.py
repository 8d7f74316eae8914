"""Running several local processes in one terminal, with prefixed logs and a clean stop.

Used by `python -m tools.run` (the whole system) and by the local autoscaler (worker
processes). Children run in their own sessions, so only this supervisor signals them,
and die with it (PR_SET_PDEATHSIG) should it be killed outright.
"""

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from streams.lifetime import die_with_parent

log = logging.getLogger(__name__)


def pid_alive(pid: int) -> bool:
    """Whether the process exists (a zombie child of ours is reaped and counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours still "exists"; reap it and report it dead.
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        return reaped == 0
    except ChildProcessError:
        return True


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class ProcessGroup:
    def __init__(self, out=None):
        self.children: dict[str, Child] = {}
        self._out = out or sys.stdout
        self._lock = threading.Lock()
        self._width = 10

    def start(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str] | None = None,
        pass_fds: tuple[int, ...] = (),
    ) -> Child:
        child = Child(name, argv, env or {})
        child.proc = subprocess.Popen(
            argv,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **child.env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent,
            pass_fds=pass_fds,
        )
        self.children[name] = child
        self._width = max(self._width, len(name))
        threading.Thread(target=self._pump, args=(child,), daemon=True).start()
        return child

    def say(self, name: str, line: str) -> None:
        with self._lock:
            self._out.write(f"{name:>{self._width}} | {line.rstrip()}\n")
            self._out.flush()

    def _pump(self, child: Child) -> None:
        for raw in child.proc.stdout:
            self.say(child.name, raw.decode("utf-8", "replace"))
        code = child.proc.wait()
        self.say(child.name, f"exited with code {code}")

    def stop(self, name: str, timeout: float = 30.0) -> None:
        self.stop_all(timeout, names=[name])

    def stop_all(self, timeout: float = 30.0, names: list[str] | None = None) -> None:
        """SIGTERM, wait up to timeout for a graceful exit, then SIGKILL what is left."""
        chosen = [self.children[n] for n in (names or list(self.children))]
        for child in chosen:
            if child.running:
                child.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in chosen:
            try:
                child.proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(child.name, f"did not stop within {timeout:.0f} s; killing it")
                child.proc.kill()
                child.proc.wait()
        for child in chosen:
            self.children.pop(child.name, None)
