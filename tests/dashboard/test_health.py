"""Burrow's rules over windows of samples, one window per status."""

import pytest

from streams.health import Observation, Status, Verdict, evaluate_group, evaluate_partition
from streams.lag import PartitionOffsets


def window(*points, owner="worker-1", every=5.0):
    """Observations `every` seconds apart from (committed, log_end) pairs."""
    return [
        Observation(i * every, PartitionOffsets(0, 0, log_end, committed), owner)
        for i, (committed, log_end) in enumerate(points)
    ]


@pytest.mark.parametrize(
    ("observations", "status", "words"),
    [
        pytest.param(window((10, 10), (10, 10), (10, 10)), Status.OK, "caught up", id="idle"),
        pytest.param(
            window((0, 50), (20, 60), (20, 20), (20, 30)),
            Status.OK,
            "reached 0",
            id="lag zero somewhere",
        ),
        pytest.param(
            window((0, 100), (20, 100), (40, 100), (60, 100)),
            Status.OK,
            "consuming; lag 100 to 40",
            id="catching up",
        ),
        pytest.param(
            window((0, 100), (10, 120), (20, 140), (30, 160)),
            Status.WARN,
            "never fell",
            id="consuming slower than produced",
        ),
        pytest.param(
            window((40, 100), (40, 110), (40, 120), (40, 120)),
            Status.STALL,
            "worker-1 holds the partition but its committed offset stayed at 40",
            id="owner stuck",
        ),
        pytest.param(
            window((40, 100), (40, 110), (40, 120), (40, 120), owner=""),
            Status.STOP,
            "no member holds the partition",
            id="nobody consuming",
        ),
        pytest.param(
            window((0, 100), (10, 100), (20, 100), (20, 100), (20, 100), (20, 100), owner=""),
            Status.STOP,
            "stayed at 20 for 15 s",
            id="stopped longer than it moved",
        ),
        pytest.param(
            window((40, 100), (40, 110), (40, 120)),
            Status.WARN,
            "lag never fell in 10 s",
            id="still within the commit interval: not judged stalled yet",
        ),
        pytest.param(
            window((50, 100), (60, 100), (30, 100)),
            Status.REWIND,
            "went back from 60 to 30",
            id="offset reset",
        ),
        pytest.param(
            window((None, 0), (None, 0)), Status.OK, "nothing to consume", id="empty partition"
        ),
        pytest.param(
            window((None, 7), (None, 9)), Status.NOTFOUND, "9 message(s) waiting", id="no commits"
        ),
        pytest.param(window((5, 9)), Status.OK, "one sample", id="too short to judge"),
    ],
)
def test_partition_status(observations, status, words):
    verdict = evaluate_partition(observations)
    assert verdict.status == status
    assert words in verdict.reason


def test_leading_samples_before_the_first_commit_are_left_out():
    observations = window((None, 50), (None, 60), (10, 60), (30, 60))
    assert evaluate_partition(observations).status == Status.OK


def test_a_group_takes_its_worst_partition_with_the_reason():
    ok = Verdict(Status.OK, "caught up")
    stall = Verdict(Status.STALL, "stuck")
    verdict = evaluate_group({0: ok, 1: stall, 2: ok, 3: stall})
    assert verdict == Verdict(Status.STALL, "partition 1: stuck (and 1 more partition(s) STALL)")
    assert evaluate_group({0: ok, 1: ok}) == Verdict(Status.OK, "all partitions OK")


def test_a_group_without_commits_says_so_rather_than_ok():
    never = Verdict(Status.NOTFOUND, "no commits yet; 3 message(s) waiting")
    assert evaluate_group({0: never, 1: never}).reason == "no commits yet"
    ok = Verdict(Status.OK, "caught up")
    assert evaluate_group({0: ok, 1: never}) == Verdict(
        Status.OK, "all partitions OK; 1 without commits yet"
    )
