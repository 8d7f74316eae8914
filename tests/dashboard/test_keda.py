"""The desired replica count is KEDA's formula, with the partition cap done right."""

import pytest

from streams.keda import EARLIEST, LATEST, KedaScaling, desired_replicas, partition_lag
from streams.lag import PartitionOffsets

PARTITIONS = 4


def lags(*values: int) -> list[PartitionOffsets]:
    """Partitions whose committed offset trails the log end by the given lags."""
    return [PartitionOffsets(p, 0, 1000 + lag, 1000) for p, lag in enumerate(values)]


def spread(total: int) -> list[PartitionOffsets]:
    base, extra = divmod(total, PARTITIONS)
    return lags(*(base + (1 if p < extra else 0) for p in range(PARTITIONS)))


DEFAULT = KedaScaling(lag_threshold=10, activation_lag_threshold=0, min_replicas=0, max_replicas=4)


@pytest.mark.parametrize(
    ("scaling", "total", "desired", "active"),
    [
        pytest.param(DEFAULT, 0, 0, False, id="no lag"),
        pytest.param(DEFAULT, 1, 1, True, id="one message wakes a worker"),
        pytest.param(
            KedaScaling(10, activation_lag_threshold=5, max_replicas=4),
            3,
            0,
            False,
            id="below activation",
        ),
        pytest.param(
            KedaScaling(10, activation_lag_threshold=5, max_replicas=4),
            5,
            0,
            False,
            id="at activation (must exceed it)",
        ),
        pytest.param(
            KedaScaling(10, activation_lag_threshold=5, max_replicas=4),
            6,
            1,
            True,
            id="just above activation",
        ),
        pytest.param(DEFAULT, 25, 3, True, id="ceil(lag / threshold)"),
        pytest.param(DEFAULT, 40, 4, True, id="exactly partitions x threshold"),
        pytest.param(DEFAULT, 45, 4, True, id="just above: KEDA's off-by-one asks 5"),
        pytest.param(DEFAULT, 5000, 4, True, id="far above"),
        pytest.param(
            KedaScaling(10, min_replicas=2, max_replicas=4), 0, 2, False, id="min clamps idle"
        ),
        pytest.param(
            KedaScaling(10, activation_lag_threshold=50, min_replicas=1, max_replicas=4),
            30,
            3,
            False,
            id="inactive but min 1: the HPA still scales on lag",
        ),
        pytest.param(KedaScaling(10, max_replicas=2), 35, 2, True, id="max clamps"),
        pytest.param(KedaScaling(10, max_replicas=12), 45, 4, True, id="partitions cap below max"),
    ],
)
def test_desired_replicas(scaling, total, desired, active):
    decision = desired_replicas(spread(total), scaling)
    assert (decision.total_lag, decision.desired, decision.active) == (total, desired, active)
    assert decision.metric == min(total, PARTITIONS * scaling.lag_threshold)
    assert str(decision.desired) in decision.formula


def test_partitions_never_committed_count_as_keda_counts_them():
    fresh = PartitionOffsets(0, first=5, log_end=30, committed=None)
    assert partition_lag(fresh, LATEST) == 1
    assert partition_lag(fresh, EARLIEST) == 25  # KEDA 2.21 counts the retained log
    decision = desired_replicas([fresh] * 2, DEFAULT, LATEST)
    assert (decision.total_lag, decision.desired) == (2, 1)


@pytest.mark.parametrize(
    ("total", "max_replicas", "keda_metric", "keda_desired", "desired"),
    [
        pytest.param(40, 12, 40, 4, 4, id="exactly partitions x threshold: both agree"),
        pytest.param(45, 12, 45, 5, 4, id="just above: KEDA asks for an idle fifth"),
        pytest.param(49, 12, 49, 5, 4, id="still within one threshold above"),
        pytest.param(50, 12, 40, 4, 4, id="50 // 10 > 4: KEDA caps too"),
        pytest.param(45, 4, 45, 4, 4, id="maxReplicaCount hides KEDA's extra replica"),
    ],
)
def test_the_decision_states_what_keda_itself_reports(
    total, max_replicas, keda_metric, keda_desired, desired
):
    decision = desired_replicas(spread(total), KedaScaling(10, max_replicas=max_replicas))
    assert (decision.keda_metric, decision.keda_desired, decision.desired) == (
        keda_metric,
        keda_desired,
        desired,
    )
    assert ("keda#4483" in decision.formula) == (decision.keda_metric != decision.metric)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lag_threshold": 0},
        {"activation_lag_threshold": -1},
        {"min_replicas": 5, "max_replicas": 4},
    ],
)
def test_impossible_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        KedaScaling(**kwargs)
