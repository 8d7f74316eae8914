"""The replica count KEDA's Kafka scaler asks for, computed as KEDA does.

KEDA reports the group's total lag as an external metric with target
AverageValue = lagThreshold, so the HPA asks for ceil(totalLag / lagThreshold)
replicas within [minReplicaCount, maxReplicaCount]; KEDA itself only moves the
Deployment between 0 and 1 replica, by activationLagThreshold. Per partition KEDA
counts log end - committed; where the group never committed it counts 1 (policy
latest) or the log-end offset (policy earliest).

One deliberate difference: KEDA caps the metric at partitions x lagThreshold only
when `totalLag / lagThreshold` (integer division) exceeds the partition count, so a
lag just above that product asks for one replica more than there are partitions,
an idle consumer (keda#4483). Here the cap is exact.
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
    metric: int  # the value KEDA reports: total lag capped at partitions x threshold
    partitions: int
    active: bool  # total lag above the activation threshold
    desired: int
    formula: str  # the computation, in words and numbers


def partition_lag(offsets: PartitionOffsets, reset_policy: str) -> int:
    """One partition's lag as KEDA counts it (no clamping to the retained log)."""
    if offsets.committed is None:
        return 1 if reset_policy == LATEST else offsets.log_end
    return offsets.log_end - offsets.committed


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
    steps = [f"total lag {total}"]
    if metric < total:
        steps.append(f"capped at {partitions} partitions x {threshold} = {ceiling}")
    if not active and scaling.min_replicas == 0:
        desired = 0
        steps.append(
            f"not above the activation threshold {scaling.activation_lag_threshold}: 0 replicas"
        )
    else:
        wanted = math.ceil(metric / threshold)
        floor = max(1, scaling.min_replicas)
        desired = min(max(wanted, floor), scaling.max_replicas)
        steps.append(
            f"ceil({metric} / {threshold}) = {wanted}, "
            f"within [{floor}, {scaling.max_replicas}]: {desired}"
        )
    return Decision(total, metric, partitions, active, desired, "; ".join(steps))
