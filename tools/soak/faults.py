"""The fault schedule of a soak and the thread that carries it out.

Faults are spread over the load: a worker killed with SIGKILL every `kill_every`
seconds (and started again), one rolling restart of the web process, one outage of
the recorder's database, one broker restart. Each fault runs in its own thread at its
time, so a long one (the database outage) overlaps the others as in real life.
"""

import logging
import random
import threading
import time
from dataclasses import dataclass

from tools.soak.stack import SoakStack

log = logging.getLogger(__name__)

KILL_WORKER = "kill -9 worker"
RESTART_WEB = "restart web"
CUT_RECORDER_DB = "cut recorder's database"
RESTART_BROKER = "restart broker"


@dataclass(frozen=True)
class Fault:
    at: float  # seconds after the load began
    kind: str


@dataclass(frozen=True)
class FaultRecord:
    kind: str
    at: float
    seconds: float
    detail: str = ""


def schedule(duration: float, kill_every: float) -> list[Fault]:
    faults = [
        Fault(0.15 * duration, RESTART_WEB),
        Fault(0.25 * duration, CUT_RECORDER_DB),
        Fault(0.55 * duration, RESTART_BROKER),
    ]
    kills = int(duration // kill_every) if kill_every > 0 else 0
    faults += [Fault(n * kill_every, KILL_WORKER) for n in range(1, kills + 1)]
    return sorted(faults, key=lambda f: f.at)


class FaultRunner:
    def __init__(self, stack: SoakStack, faults: list[Fault], *, db_outage: float, seed: int):
        self.stack = stack
        self.faults = faults
        self.db_outage = db_outage
        self.rng = random.Random(seed)  # noqa: S311 - reproducible, not secret
        self.records: list[FaultRecord] = []
        self.errors: list[str] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        self._began = time.monotonic()
        for fault in self.faults:
            thread = threading.Thread(target=self._run, args=(fault,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def join(self) -> None:
        for thread in self._threads:
            thread.join()

    def _run(self, fault: Fault) -> None:
        time.sleep(max(0.0, self._began + fault.at - time.monotonic()))
        at = time.monotonic() - self._began
        try:
            seconds, detail = self._inflict(fault.kind)
        except Exception as exc:  # a failed fault is reported, not fatal
            log.exception("fault %r failed", fault.kind)
            with self._lock:
                self.errors.append(f"{fault.kind} at {at:.0f} s: {exc}")
            return
        with self._lock:
            self.records.append(FaultRecord(fault.kind, at, seconds, detail))
        log.info("fault %s at %.0f s took %.1f s %s", fault.kind, at, seconds, detail)

    def _inflict(self, kind: str) -> tuple[float, str]:
        began = time.monotonic()
        if kind == KILL_WORKER:
            name = self.rng.choice(self.stack.workers)
            self.stack.kill_worker(name)
            return time.monotonic() - began, name
        if kind == RESTART_WEB:
            return self.stack.restart_web(), ""
        if kind == RESTART_BROKER:
            return self.stack.restart_broker(pause=5.0), ""
        self.stack.cut_recorder_database(self.db_outage)
        return time.monotonic() - began, ""
