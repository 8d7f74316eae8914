"""Keeps a local system's processes running, as Kubernetes keeps a pod's containers:
one that exits is started again, at once if it had run a while, else after a wait that
doubles while it keeps failing fast (a crash loop's back-off)."""

import time
from collections.abc import Callable

from tools.processes import Child, ProcessGroup

QUICK_EXIT = 10.0  # seconds: an exit sooner than this after a start counts as a crash
FIRST_WAIT, LONGEST_WAIT = 1.0, 30.0


class Supervisor:
    def __init__(self, group: ProcessGroup, clock: Callable[[], float] = time.monotonic):
        self.group = group
        self.clock = clock
        self._starters: dict[str, Callable[[], Child]] = {}
        self._started: dict[str, float] = {}
        self._crashes: dict[str, int] = {}  # quick exits in a row
        self._due: dict[str, float] = {}  # when an exited one starts again
        self.restarts = 0

    def start(self, name: str, starter: Callable[[], Child]) -> Child:
        """Start it with starter() (which names it `name`), and again whenever it exits."""
        self._starters[name] = starter
        return self._start(name)

    def _start(self, name: str) -> Child:
        self._started[name] = self.clock()
        self._due.pop(name, None)
        return self._starters[name]()

    def check(self) -> None:
        """Start again what has exited and waited its turn; call it every second or so."""
        now = self.clock()
        for name in self._starters:
            child = self.group.children.get(name)
            if child is not None and child.running:
                continue
            if name not in self._due:
                quick = now - self._started[name] < QUICK_EXIT
                crashes = self._crashes[name] = self._crashes.get(name, 0) + 1 if quick else 0
                wait = min(LONGEST_WAIT, FIRST_WAIT * 2 ** (crashes - 1)) if crashes else 0
                self._due[name] = now + wait
                code = child.proc.returncode if child is not None else None
                self.group.say(name, f"exited ({code}); starting it again in {wait:.0f} s")
            if now >= self._due[name]:
                self.restarts += 1
                self._start(name)
