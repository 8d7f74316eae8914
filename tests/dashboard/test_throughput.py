"""Rates from sampled offset counters, and thinning long series for charts."""

from streams.throughput import last_per_bucket, max_per_bucket, rate, rates


def test_rate_is_the_counter_difference_over_time():
    assert rate((10.0, 100), (15.0, 150)) == 10.0
    assert rate((10.0, 100), (10.0, 150)) is None  # no time passed
    assert rate((10.0, 100), (15.0, 20)) is None  # the counter went back: topic re-created


def test_rates_are_stamped_at_the_end_of_each_interval():
    assert rates([(0.0, 0), (5.0, 50), (10.0, 50)]) == [(5.0, 10.0), (10.0, 0.0)]


def test_thinning_keeps_counters_last_and_gauges_peaks():
    points = [(0.0, 1), (5.0, 9), (10.0, 3), (15.0, 4)]
    assert last_per_bucket(points, 10) == [(5.0, 9), (15.0, 4)]
    assert max_per_bucket(points, 10) == [(5.0, 9), (15.0, 4)]
    assert max_per_bucket([(0.0, 7), (5.0, 2)], 10) == [(5.0, 7)]
