"""Line charts as SVG markup, drawn on the server: no JavaScript library, no CDN.

Colours come from CSS classes (s0, s1, ...) in the dashboard's stylesheet, so the
markup carries no inline style and passes a strict Content-Security-Policy.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

WIDTH, HEIGHT = 640, 236
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 54, 24
LEGEND_ROWS = (28, 43)  # baselines of the legend's two rows


@dataclass(frozen=True)
class Series:
    label: str
    points: Sequence[tuple[float, float | None]]  # (epoch seconds, value); None breaks the line


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten that is >= value (at least 1)."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    return next(step * magnitude for step in (1, 2, 5, 10) if step * magnitude >= value)


def _number(value: float) -> str:
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:g}{suffix}"
    return f"{value:g}"


def _segments(points, max_gap: float):
    """Runs of consecutive points with values, split where samples are missing."""
    run, previous = [], None
    for t, value in points:
        if value is None or (previous is not None and t - previous > max_gap):
            if len(run) > 1:
                yield run
            run = []
        if value is not None:
            run.append((t, value))
        previous = t
    if len(run) > 1:
        yield run


def line_chart(
    title: str, unit: str, series: Sequence[Series], start: float, end: float, max_gap: float
) -> str:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    values = [v for s in series for _, v in s.points if v is not None]
    top = nice_ceiling(max(values, default=0))
    span = max(end - start, 1.0)

    def x(t: float) -> float:
        return LEFT + (t - start) / span * plot_w

    def y(v: float) -> float:
        return TOP + plot_h - v / top * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text class="chart-title" x="{LEFT}" y="13">{escape(title)} ({escape(unit)}, UTC)</text>',
    ]
    for i in range(5):
        value = top * i / 4
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" '
            f'y2="{y(value):.1f}"/><text class="axis" x="{LEFT - 6}" y="{y(value) + 4:.1f}" '
            f'text-anchor="end">{_number(value)}</text>'
        )
    time_format = "%H:%M:%S" if span < 600 else "%H:%M"
    for i in range(5):
        t = start + span * i / 4
        label = datetime.fromtimestamp(t, UTC).strftime(time_format)
        anchor = "start" if i == 0 else "end" if i == 4 else "middle"
        parts.append(
            f'<text class="axis" x="{x(t):.1f}" y="{HEIGHT - 6}" text-anchor="{anchor}">'
            f"{label}</text>"
        )
    legend_x, row = LEFT, 0
    for index, s in enumerate(series):
        room = 24 + 6.5 * len(s.label)
        if legend_x + room > WIDTH - RIGHT and legend_x > LEFT and row + 1 < len(LEGEND_ROWS):
            legend_x, row = LEFT, row + 1
        baseline = LEGEND_ROWS[row]
        parts.append(
            f'<rect class="s{index}" x="{legend_x}" y="{baseline - 6}" width="10" height="4"/>'
            f'<text class="legend" x="{legend_x + 14}" y="{baseline}">{escape(s.label)}</text>'
        )
        legend_x += room
        for run in _segments(s.points, max_gap):
            coords = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in run)
            parts.append(f'<polyline class="line s{index}" points="{coords}"/>')
    if not values:
        parts.append(
            f'<text class="empty" x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" '
            f'text-anchor="middle">no samples in this range</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
