"""Messages per second from offset counters sampled over time, and thinning series.

Log-end offsets count what was produced to a partition and committed offsets what a
group consumed, so the rate between two samples is the difference over the time
between them. A counter that went back (a topic deleted and created again) has no
rate for that interval.
"""

from collections.abc import Sequence
from itertools import pairwise

Point = tuple[float, float]  # (epoch seconds, value)


def rate(earlier: Point, later: Point) -> float | None:
    elapsed = later[0] - earlier[0]
    delta = later[1] - earlier[1]
    if elapsed <= 0 or delta < 0:
        return None
    return delta / elapsed


def rates(points: Sequence[Point]) -> list[tuple[float, float | None]]:
    """The rate over each interval between consecutive points, stamped at its end."""
    return [(later[0], rate(earlier, later)) for earlier, later in pairwise(points)]


def _buckets(points: Sequence[Point], width: float) -> dict[int, list[Point]]:
    buckets: dict[int, list[Point]] = {}
    for point in points:
        buckets.setdefault(int(point[0] // width), []).append(point)
    return buckets


def last_per_bucket(points: Sequence[Point], width: float) -> list[Point]:
    """Thin a counter series: the last point of each `width`-second bucket."""
    return [bucket[-1] for bucket in _buckets(points, width).values()]


def max_per_bucket(points: Sequence[Point], width: float) -> list[Point]:
    """Thin a gauge series keeping its peaks: each bucket's last time, highest value."""
    return [
        (bucket[-1][0], max(value for _, value in bucket))
        for bucket in _buckets(points, width).values()
    ]
