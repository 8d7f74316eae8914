"""Consumer lag health by Burrow's evaluation rules, over a window of observations.

Burrow keeps the last commits of each partition and checks, in this order: the lag
was zero somewhere in the window (OK); the committed offset went back (REWIND); no
commit since longer than the commits before it span (STOP); commits that do not
move the offset (STALL); lag that never decreases although the offset moves (WARN).

Kafka tells what a group committed but not when, so the window here is the
sampler's observations, one per interval, and a commit shows only as a moving
offset. That makes "stopped" and "stalled" look alike; the owner tells them apart:
an offset that has stood still longer than it had been moving, while a live member
holds the partition, is stalled (the member is stuck); with no member, stopped.
Consumers commit on an interval, so neither is called before the offset has stood
still for longer than a grace period of two such intervals.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from itertools import pairwise

from streams.lag import PartitionOffsets


class Status(IntEnum):
    """Ordered as Burrow orders them: a group takes its worst partition's status."""

    NOTFOUND = 0  # no commits yet: nothing to evaluate
    OK = 1
    WARN = 2
    STOP = 4
    STALL = 5
    REWIND = 6


@dataclass(frozen=True)
class Observation:
    at: float  # epoch seconds
    offsets: PartitionOffsets
    owner: str = ""  # client id of the member that held the partition, "" for none


@dataclass(frozen=True)
class Verdict:
    status: Status
    reason: str


# Two of librdkafka's default auto-commit intervals (5 s).
COMMIT_GRACE = 10.0


def _seconds(span: float) -> str:
    return f"{span:.0f} s" if span < 120 else f"{span / 60:.0f} min"


def evaluate_partition(window: Sequence[Observation], grace: float = COMMIT_GRACE) -> Verdict:
    """The status of one partition over its observations, oldest first.

    An offset standing still for no longer than `grace` seconds is not judged: a
    consumer that commits on an interval looks still between its commits."""
    if not window:
        return Verdict(Status.NOTFOUND, "no samples yet")
    latest = window[-1].offsets
    # Like Burrow, leading observations without a commit do not count.
    committed = [o for o in window if o.offsets.committed is not None]
    if not committed:
        if latest.log_end == latest.first:
            return Verdict(Status.OK, "nothing to consume yet")
        waiting = latest.log_end - latest.first
        return Verdict(Status.NOTFOUND, f"no commits yet; {waiting} message(s) waiting")
    lags = [o.offsets.lag for o in committed]
    if lags[-1] == 0 or 0 in lags:
        return Verdict(Status.OK, "caught up" if lags[-1] == 0 else "lag reached 0 in the window")
    for before, after in pairwise(o.offsets.committed for o in committed):
        if after < before:
            return Verdict(Status.REWIND, f"committed offset went back from {before} to {after}")
    if len(committed) < 2:
        return Verdict(Status.OK, f"lag {lags[-1]}; one sample so far")
    # A "commit" is an observation where the offset moved; the first one counts.
    moves = [committed[0]] + [
        b for a, b in pairwise(committed) if b.offsets.committed != a.offsets.committed
    ]
    last_move = moves[-1].at
    still = committed[-1].at - last_move
    if still > max(last_move - committed[0].at, grace):
        offset, owner = committed[-1].offsets.committed, window[-1].owner
        if owner:
            return Verdict(
                Status.STALL,
                f"{owner} holds the partition but its committed offset stayed at {offset} "
                f"for {_seconds(still)} with lag {lags[-1]}",
            )
        return Verdict(
            Status.STOP,
            f"no member holds the partition and its committed offset stayed at {offset} "
            f"for {_seconds(still)}; lag {lags[-1]}",
        )
    span = committed[-1].at - committed[0].at
    if all(after >= before for before, after in pairwise(lags)):
        return Verdict(
            Status.WARN,
            f"lag never fell in {_seconds(span)}: {lags[0]} to {lags[-1]}",
        )
    return Verdict(Status.OK, f"consuming; lag {lags[0]} to {lags[-1]} in {_seconds(span)}")


def evaluate_group(partitions: Mapping[int, Verdict]) -> Verdict:
    """The worst partition's status, with its reason and how many share it."""
    if not partitions:
        return Verdict(Status.NOTFOUND, "no partitions sampled yet")
    worst = max(partitions, key=lambda p: (partitions[p].status, -p))
    verdict = partitions[worst]
    if verdict.status == Status.NOTFOUND:
        return Verdict(Status.NOTFOUND, "no commits yet")
    if verdict.status == Status.OK:
        never = sum(1 for v in partitions.values() if v.status == Status.NOTFOUND)
        return Verdict(
            Status.OK, "all partitions OK" + (f"; {never} without commits yet" if never else "")
        )
    same = sum(1 for v in partitions.values() if v.status == verdict.status)
    more = f" (and {same - 1} more partition(s) {verdict.status.name})" if same > 1 else ""
    return Verdict(verdict.status, f"partition {worst}: {verdict.reason}{more}")
