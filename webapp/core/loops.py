"""The long-running management commands (recorder, sampler): one loop for all.

A command says what one step is and how often to take it; the loop runs it until
SIGTERM or SIGINT, touches the command's heartbeat file after each healthy step (the
liveness probe checks its age), and closes what the command opened on the way out.
"""

import signal
import threading
import time
from pathlib import Path

from django.core.management.base import BaseCommand

from streams import logs
from streams.gcpause import freeze_startup_objects
from streams.heartbeat import Heartbeat


class LoopCommand(BaseCommand):
    name = "loop"  # for its start and stop lines

    def interval(self) -> float:
        """Seconds from the start of one step to the start of the next (0: no pause)."""
        return 0.0

    def heartbeat_file(self) -> Path | None:
        return None

    def open(self) -> None:
        """Connect what the steps use."""

    def step(self) -> bool:
        """One step; True while healthy (only then is the heartbeat touched)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what open() connected."""

    def handle(self, *args, **options):
        logs.set_process(self.name)  # in every log line of the process
        stopping = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stopping.set())
        path = self.heartbeat_file()
        heartbeat = Heartbeat(path) if path else None
        interval = self.interval()
        self.open()
        freeze_startup_objects()
        self.stdout.write(f"{self.name} started" + (f", every {interval:g} s" if interval else ""))
        try:
            while not stopping.is_set():
                began = time.monotonic()
                if self.step() and heartbeat is not None:
                    heartbeat.beat()
                if interval:
                    stopping.wait(max(0.0, interval - (time.monotonic() - began)))
        finally:
            self.close()
        self.stdout.write(f"{self.name} stopped")
