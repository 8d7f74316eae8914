"""The replica count KEDA's Kafka scaler asks for, computed as KEDA does.

KEDA reports the group's total lag as an external metric with target
AverageValue = lagThreshold, so the HPA asks for ceil(totalLag / lagThreshold)
replicas within [minReplicaCount, maxReplicaCount]; KEDA itself only moves the
Deployment between 0 and 1 replica, by activationLagThreshold. Per partition KEDA
counts log end - committed; where the group never committed it counts 1 (policy
latest) or the retained log, log end - first offset (policy earliest; KEDA 2.21's
kafka_scaler.go).

One deliberate difference: KEDA caps the metric at partitions x lagThreshold only
when `totalLag / lagThreshold` (integer division) exceeds the partition count, so a
lag just above that product asks for one replica more than there are partitions,
an idle consumer (keda#4483). Here the cap is exact, and the decision states what
KEDA itself reports and asks for whenever the two differ (`keda_metric`,
`keda_desired`); the end-to-end tests hold a real KEDA to both figures.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from streams.envvars import env_int
from streams.lag import PartitionOffsets

EARLIEST, LATEST = "earliest", "latest"


@dataclass(frozen=True)
class KedaScaling:
    """The ScaledObject's numbers: trigger metadata and replica bounds."""

    lag_threshold: int = 10
    activation_lag_threshold: int = 0
    min_replicas: int = 0
    max_replicas: int = 100

    def __post_init__(self):
        if self.lag_threshold < 1:
            raise ValueError("lagThreshold must be at least 1")
        if self.activation_lag_threshold < 0:
            raise ValueError("activationLagThreshold must not be negative")
        if not 0 <= self.min_replicas <= self.max_replicas:
            raise ValueError(
                f"replica bounds must satisfy 0 <= min ({self.min_replicas}) "
                f"<= max ({self.max_replicas})"
            )


def scaling_from_env(partitions: int) -> KedaScaling:
    """The ScaledObject's numbers from the environment, defaulting to those of the
    keda-kafka-autoscaling component: one worker always up, one per partition at most."""
    return KedaScaling(
        lag_threshold=env_int("KEDA_LAG_THRESHOLD", 10, minimum=1),
        activation_lag_threshold=env_int("KEDA_ACTIVATION_LAG_THRESHOLD", 0, minimum=0),
        min_replicas=env_int("KEDA_MIN_REPLICAS", 1, minimum=0),
        max_replicas=env_int("KEDA_MAX_REPLICAS", partitions, minimum=1),
    )


@dataclass(frozen=True)
class Decision:
    total_lag: int  # sum of per-partition lags as KEDA counts them
    metric: int  # total lag capped at partitions x threshold
    partitions: int
    active: bool  # total lag above the activation threshold
    desired: int
    formula: str  # the computation, in words and numbers
    keda_metric: int  # the value KEDA itself reports (its cap is off by one, keda#4483)
    keda_desired: int  # the replicas KEDA's own value leads to


def partition_lag(offsets: PartitionOffsets, reset_policy: str) -> int:
    """One partition's lag as KEDA counts it (no clamping to the retained log)."""
    if offsets.committed is None:
        return 1 if reset_policy == LATEST else max(0, offsets.log_end - offsets.first)
    return offsets.log_end - offsets.committed


def keda_reported_metric(total_lag: int, partitions: int, threshold: int) -> int:
    """KEDA's own cap: only once total // threshold exceeds the partitions."""
    return partitions * threshold if total_lag // threshold > partitions else total_lag


def desired_replicas(
    offsets: Sequence[PartitionOffsets], scaling: KedaScaling, reset_policy: str = EARLIEST
) -> Decision:
    if reset_policy not in (EARLIEST, LATEST):
        raise ValueError(f"offset reset policy must be {EARLIEST} or {LATEST}")
    partitions = len(offsets)
    threshold = scaling.lag_threshold
    total = sum(partition_lag(p, reset_policy) for p in offsets)
    ceiling = partitions * threshold
    metric = min(total, ceiling)
    active = total > scaling.activation_lag_threshold
    floor = max(1, scaling.min_replicas)

    def replicas(value: int) -> tuple[int, int]:
        wanted = math.ceil(value / threshold)
        return wanted, min(max(wanted, floor), scaling.max_replicas)

    steps = [f"total lag {total}"]
    if metric < total:
        steps.append(f"capped at {partitions} partitions x {threshold} = {ceiling}")
    keda_metric = keda_reported_metric(total, partitions, threshold)
    wanted, desired = replicas(metric)
    keda_wanted, keda_desired = replicas(keda_metric)
    if not active and scaling.min_replicas == 0:
        desired = keda_desired = 0
        steps.append(
            f"not above the activation threshold {scaling.activation_lag_threshold}: 0 replicas"
        )
    else:
        steps.append(
            f"ceil({metric} / {threshold}) = {wanted}, "
            f"within [{floor}, {scaling.max_replicas}]: {desired}"
        )
        if keda_metric != metric:
            steps.append(
                f"KEDA itself reports {keda_metric}, capping only when {total} // {threshold}"
                f" > {partitions} (keda#4483): ceil({keda_metric} / {threshold}) = "
                f"{keda_wanted}, within [{floor}, {scaling.max_replicas}]: {keda_desired}"
            )
    return Decision(
        total, metric, partitions, active, desired, "; ".join(steps), keda_metric, keda_desired
    )
