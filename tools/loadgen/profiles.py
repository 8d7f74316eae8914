"""Load profiles: when each request is sent.

A profile is a list of phases, each with a rate that moves linearly from `start` to
`end` requests per second over its seconds. The k-th request (k = 0, 1, ...) goes at
the instant the profile's cumulative count reaches k, so a constant 5/s for 30 s
sends 150 requests at 0, 0.2, ..., 29.8 s, and a ramp sends its integral.
"""

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Phase:
    start: float  # requests per second at the phase's start
    end: float  # ... and at its end
    seconds: float

    def __post_init__(self):
        if self.start < 0 or self.end < 0 or self.seconds <= 0:
            raise ValueError("a phase needs rates >= 0 and a positive duration")

    @property
    def count(self) -> float:
        return (self.start + self.end) / 2 * self.seconds

    def time_of(self, m: float) -> float:
        """When, from the phase's start, its cumulative count reaches m (0 <= m <= count)."""
        slope = (self.end - self.start) / self.seconds
        if slope == 0:
            return m / self.start
        # start*t + slope*t^2/2 = m, the root within the phase
        return (math.sqrt(self.start**2 + 2 * slope * m) - self.start) / slope


@dataclass(frozen=True)
class Profile:
    name: str
    phases: tuple[Phase, ...]

    @property
    def seconds(self) -> float:
        return sum(p.seconds for p in self.phases)

    def send_times(self) -> list[float]:
        """Seconds from the run's start at which each request is sent, in order."""
        total = round(sum(p.count for p in self.phases))
        times: list[float] = []
        began, counted = 0.0, 0.0
        for phase in self.phases:
            while len(times) < total and len(times) < counted + phase.count - 1e-9:
                times.append(began + phase.time_of(len(times) - counted))
            began += phase.seconds
            counted += phase.count
        return times


def constant(rate: float, seconds: float) -> Profile:
    return Profile("constant", (Phase(rate, rate, seconds),))


def ramp(rate: float, peak: float, seconds: float) -> Profile:
    return Profile("ramp", (Phase(rate, peak, seconds),))


def spike(rate: float, peak: float, base_seconds: float, peak_seconds: float) -> Profile:
    """`rate` for base_seconds, `peak` for peak_seconds, `rate` for base_seconds again."""
    base = Phase(rate, rate, base_seconds)
    return Profile("spike", (base, Phase(peak, peak, peak_seconds), base))
