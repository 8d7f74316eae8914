"""Load profiles send the right number of requests at the right times."""

import itertools

import pytest

from tools.loadgen.profiles import Phase, Profile, constant, ramp, spike


def test_constant_rate_is_evenly_spaced():
    times = constant(5, 30).send_times()
    assert len(times) == 150
    assert times[:3] == pytest.approx([0.0, 0.2, 0.4])
    assert times[-1] == pytest.approx(29.8)


def test_spike_counts_each_phase():
    times = spike(rate=5, peak=200, base_seconds=30, peak_seconds=20).send_times()
    assert len(times) == 150 + 4000 + 150
    assert sum(1 for t in times if t < 30) == 150
    assert sum(1 for t in times if 30 <= t < 50) == 4000
    assert sum(1 for t in times if t >= 50) == 150
    assert times[150] == pytest.approx(30.0)
    assert times[151] == pytest.approx(30.005)
    assert times[-1] == pytest.approx(79.8)


def test_ramp_sends_its_integral_faster_and_faster():
    times = ramp(0, 10, 10).send_times()
    assert len(times) == 50  # (0 + 10) / 2 * 10
    # cumulative count t^2 / 2 reaches k at sqrt(2k)
    assert times[:4] == pytest.approx([0.0, 2**0.5, 2.0, 6**0.5])
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps == sorted(gaps, reverse=True)
    assert times[-1] < 10


def test_times_are_ordered_and_within_the_profile():
    profile = Profile("mixed", (Phase(2, 2, 3), Phase(0, 0, 5), Phase(10, 4, 2)))
    times = profile.send_times()
    assert len(times) == 6 + 0 + 14
    assert times == sorted(times)
    assert all(0 <= t < profile.seconds for t in times)
    assert not [t for t in times if 3 <= t < 8]  # the idle phase sends nothing


@pytest.mark.parametrize("phase", [(-1, 1, 1), (1, 1, 0), (1, -1, 1)])
def test_bad_phases_are_refused(phase):
    with pytest.raises(ValueError):
        Phase(*phase)
