"""Charts are SVG markup drawn on the server: escaped labels, lines broken at gaps."""

from webapp.dashboard.charts import Series, line_chart, nice_ceiling


def test_the_scale_ends_on_a_round_number():
    assert [nice_ceiling(v) for v in (0, 0.3, 7, 450, 1000, 1001)] == [1, 1, 10, 500, 1000, 2000]


def test_missing_samples_break_the_line_and_labels_are_escaped():
    points = [(0.0, 1.0), (5.0, 2.0), (10.0, None), (15.0, 3.0), (20.0, 4.0), (90.0, 5.0)]
    svg = line_chart("Lag", "messages", [Series("<group>", points)], 0, 90, max_gap=10)
    assert svg.count("<polyline") == 2  # split at the None; the point after the gap alone
    assert "&lt;group&gt;" in svg and "<group>" not in svg
    assert "style=" not in svg  # colours come from the stylesheet (CSP)


def test_an_empty_range_says_so():
    assert "no samples in this range" in line_chart("Lag", "messages", [Series("g", [])], 0, 1, 5)
