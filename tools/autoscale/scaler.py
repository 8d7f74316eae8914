"""A local stand-in for KEDA + the HPA: worker processes that follow the lag of clap-workers.

`ReplicaPlanner` is the decision, pure and clock-driven: KEDA's desired replicas
(streams.keda), at most one per partition, scaled up at once and down only to the
highest recommendation of the stabilisation window, as the HPA does. `LocalAutoscaler`
reads the lag and starts or stops `python -m worker` processes to match; nothing more.
"""

import logging
import sys
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from confluent_kafka import KafkaException

from streams.envvars import env_float
from streams.keda import EARLIEST, Decision, KedaScaling, desired_replicas
from streams.lag import OffsetReader, PartitionOffsets
from tools.processes import ProcessGroup

log = logging.getLogger(__name__)
WORKER_PREFIX = "worker-"


@dataclass(frozen=True)
class Plan:
    keda: Decision
    recommended: int  # KEDA's desired count, at most one per partition
    target: int  # the highest recommendation within the stabilisation window

    def describe(self, current: int) -> str:
        steps = [self.keda.formula]
        if self.recommended < self.keda.desired:
            steps.append(f"at most {self.keda.partitions} (partitions): {self.recommended}")
        if self.target > self.recommended:
            steps.append(f"held at {self.target} by the stabilisation window")
        move = "stay"
        if self.target != current:
            move = "scale up" if self.target > current else "scale down"
        return f"{'; '.join(steps)}; workers {current} -> {self.target} ({move})"


class ReplicaPlanner:
    def __init__(self, scaling: KedaScaling, window: float, reset_policy: str = EARLIEST):
        if window < 0:
            raise ValueError("the stabilisation window must not be negative")
        self.scaling = scaling
        self.window = window
        self.reset_policy = reset_policy
        self._recent: deque[tuple[float, int]] = deque()  # (time, recommendation)

    def plan(self, offsets: Sequence[PartitionOffsets], now: float) -> Plan:
        keda = desired_replicas(offsets, self.scaling, self.reset_policy)
        recommended = min(keda.desired, keda.partitions)
        self._recent.append((now, recommended))
        while self._recent[0][0] < now - self.window:
            self._recent.popleft()
        return Plan(keda, recommended, max(r for _, r in self._recent))


class LocalAutoscaler:
    """Keeps as many local worker processes (worker-1, worker-2, ...) as the plan says."""

    def __init__(
        self,
        planner: ReplicaPlanner,
        reader: OffsetReader,
        processes: ProcessGroup,
        *,
        group: str,
        topic: str,
        env: dict[str, str] | None = None,
        stop_timeout: float = 30.0,
    ):
        self.planner = planner
        self.reader = reader
        self.processes = processes
        self.group = group
        self.topic = topic
        self.env = env or {}
        self.stop_timeout = stop_timeout

    def workers(self) -> list[str]:
        """The running workers' names, oldest number first."""
        names = [
            name
            for name, child in self.processes.children.items()
            if name.startswith(WORKER_PREFIX) and child.running
        ]
        return sorted(names, key=lambda name: int(name.removeprefix(WORKER_PREFIX)))

    def step(self) -> Plan | None:
        """Read the lag, decide, and start or stop workers. None when Kafka did not
        answer (the workers are left as they are)."""
        try:
            offsets = self.reader.offsets(self.group, self.topic)
        except (KafkaException, LookupError) as exc:
            log.warning("lag of %s unreadable (%s); workers left as they are", self.group, exc)
            return None
        plan = self.planner.plan(offsets, time.monotonic())
        current = len(self.workers())
        log.info("%s", plan.describe(current))
        self.scale_to(plan.target)
        return plan

    def scale_to(self, count: int) -> None:
        self._forget_exited()
        running = self.workers()
        if count < len(running):
            self.processes.stop_all(self.stop_timeout, names=running[count:])
            return
        taken = {int(name.removeprefix(WORKER_PREFIX)) for name in running}
        free = (n for n in range(1, count + len(taken) + 1) if n not in taken)
        for _ in range(count - len(running)):
            name = f"{WORKER_PREFIX}{next(free)}"
            self.processes.start(
                name, [sys.executable, "-m", "worker"], {**self.env, "WORKER_ID": name}
            )

    def _forget_exited(self) -> None:
        for name, child in list(self.processes.children.items()):
            if name.startswith(WORKER_PREFIX) and not child.running:
                self.processes.stop(name)

    def close(self) -> None:
        self.scale_to(0)
        self.reader.close()


def interval_from_env() -> float:
    return env_float("AUTOSCALE_INTERVAL", 5.0, minimum=0.1)


def window_from_env() -> float:
    return env_float("AUTOSCALE_STABILISATION_SECONDS", 60.0, minimum=0)
