"""The autoscaler's decision over time: KEDA's count, the partition cap, and the
HPA-like scale-down window."""

import pytest

from streams.keda import KedaScaling
from streams.lag import PartitionOffsets
from tools.autoscale.scaler import ReplicaPlanner


def lagging(total: int, partitions: int = 12) -> list[PartitionOffsets]:
    """Partitions that all committed, with `total` lag spread over them."""
    share, extra = divmod(total, partitions)
    return [
        PartitionOffsets(p, first=0, log_end=100 + share + (p < extra), committed=100)
        for p in range(partitions)
    ]


SCALING = KedaScaling(lag_threshold=10, min_replicas=1, max_replicas=8)

# (seconds, total lag, expected target) with a 60 s window
TIMELINE = [
    (0, 0, 1),  # idle: the minimum
    (5, 35, 4),  # scale up at once: ceil(35 / 10)
    (10, 500, 8),  # clamped to max_replicas
    (15, 20, 8),  # the lag fell, the window holds 8
    (69, 0, 8),  # 8 was recommended at t=10, still inside the window
    (71, 0, 2),  # t=10 left the window; t=15's 2 is the highest left
    (76, 0, 1),  # everything above the minimum has left the window
    (77, 11, 2),  # up again at once
]


def test_timeline_up_at_once_down_after_the_window():
    planner = ReplicaPlanner(SCALING, window=60)
    got = [(t, planner.plan(lagging(lag), now=t).target) for t, lag, _ in TIMELINE]
    assert got == [(t, want) for t, _, want in TIMELINE]


@pytest.mark.parametrize(
    ("scaling", "lag", "partitions", "want"),
    [
        (KedaScaling(lag_threshold=10, min_replicas=0, max_replicas=100), 0, 12, 0),
        (KedaScaling(lag_threshold=10, min_replicas=0, max_replicas=100), 1, 12, 1),
        (KedaScaling(lag_threshold=10, min_replicas=3, max_replicas=100), 0, 12, 3),
        (KedaScaling(lag_threshold=10, min_replicas=0, max_replicas=100), 10_000, 12, 12),
        (KedaScaling(lag_threshold=10, min_replicas=0, max_replicas=100), 10_000, 4, 4),
        (KedaScaling(lag_threshold=10, min_replicas=6, max_replicas=100), 0, 4, 4),
        (KedaScaling(lag_threshold=5, min_replicas=0, max_replicas=100), 21, 12, 5),
        (KedaScaling(lag_threshold=10, activation_lag_threshold=50, min_replicas=0), 50, 12, 0),
        (KedaScaling(lag_threshold=10, activation_lag_threshold=50, min_replicas=0), 51, 12, 6),
    ],
)
def test_clamps_and_partition_cap(scaling, lag, partitions, want):
    plan = ReplicaPlanner(scaling, window=0).plan(lagging(lag, partitions), now=0)
    assert plan.target == want
    assert plan.target <= partitions


def test_zero_window_follows_the_lag_down_at_once():
    planner = ReplicaPlanner(SCALING, window=0)
    assert planner.plan(lagging(80), now=0).target == 8
    assert planner.plan(lagging(0), now=0.1).target == 1


def test_a_never_committed_partition_counts_its_backlog():
    fresh = [PartitionOffsets(0, first=0, log_end=30, committed=None)]
    plan = ReplicaPlanner(KedaScaling(lag_threshold=10, min_replicas=0), window=0).plan(fresh, 0)
    assert plan.keda.total_lag == 30
    assert plan.target == 1  # capped at the one partition


def test_describe_names_the_inputs():
    plan = ReplicaPlanner(SCALING, window=60).plan(lagging(35), now=0)
    text = plan.describe(current=1)
    assert "total lag 35" in text
    assert "ceil(35 / 10) = 4" in text
    assert "workers 1 -> 4 (scale up)" in text


def test_negative_window_is_refused():
    with pytest.raises(ValueError):
        ReplicaPlanner(SCALING, window=-1)
