"""A once-a-second record of the scaling chain, from the lag to the replica count,
saved as JSON and drawn as a PNG chart."""

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global state

from tools.stamp import commit, load_average

log = logging.getLogger(__name__)

SERIES = {
    # key: (label, axes: 0 = messages, 1 = replicas)
    "lag": ("consumer lag (as KEDA counts it)", 0),
    "keda_metric": ("KEDA's external metric", 0),
    "dashboard_desired": ("dashboard: replicas KEDA would ask for", 1),
    "replicas": ("Deployment spec.replicas", 1),
    "hpa_desired": ("HPA desiredReplicas (0: off while no replica)", 1),
    "worker_pods": ("worker pods Ready (where a node runs them)", 1),
}
STYLES = {
    "lag": {"linewidth": 2.5, "alpha": 0.6},
    "keda_metric": {"linestyle": "--"},
    "dashboard_desired": {"linewidth": 2.5, "alpha": 0.5},
    "hpa_desired": {"linestyle": ":", "linewidth": 2},
    "replicas": {},
    "worker_pods": {"linewidth": 2},
}


class Timeline:
    def __init__(self, probe: Callable[[], dict], interval: float = 1.0):
        """probe() returns one sample: a value (or None) for each key of SERIES."""
        self.probe = probe
        self.interval = interval
        self.samples: list[dict] = []
        self.marks: list[dict] = []
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="timeline", daemon=True)

    def start(self) -> "Timeline":
        self._started = time.monotonic()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def mark(self, label: str) -> None:
        self.marks.append({"t": round(time.monotonic() - self._started, 2), "label": label})

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            t = round(time.monotonic() - self._started, 2)
            try:
                sample = self.probe()
            except Exception as exc:  # noqa: BLE001 - a gap in the record, not a failed run
                log.warning("timeline sample at %.0f s failed: %s", t, exc)
                sample = dict.fromkeys(SERIES)
            self.samples.append({"t": t, **sample})
            next_at += self.interval
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def save(self, directory: Path, name: str, title: str) -> tuple[Path, Path]:
        directory.mkdir(parents=True, exist_ok=True)
        data, chart = directory / f"{name}.json", directory / f"{name}.png"
        data.write_text(
            json.dumps({"title": title, "samples": self.samples, "marks": self.marks}, indent=1)
        )
        draw(chart, title, self.samples, self.marks)
        return data, chart


def draw(path: Path, title: str, samples: list[dict], marks: list[dict]) -> None:
    fig = Figure(figsize=(13, 7), layout="constrained")
    messages, replicas = fig.subplots(2, 1, sharex=True)
    fig.suptitle(title)
    for key, (label, panel) in SERIES.items():
        points = [(s["t"], s[key]) for s in samples if s.get(key) is not None]
        if not points:
            continue
        axes = (messages, replicas)[panel]
        style = {"drawstyle": "steps-post"} if panel else {}
        axes.plot(*zip(*points, strict=True), label=label, **style, **STYLES[key])
    messages.set_ylabel("messages")
    replicas.set_ylabel("replicas")
    replicas.set_xlabel("seconds")
    for axes in (messages, replicas):
        axes.set_ylim(bottom=0, top=axes.get_ylim()[1] * 1.3)  # room for the marks
        axes.grid(alpha=0.3)
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
        for mark in marks:
            axes.axvline(mark["t"], color="grey", alpha=0.4, linewidth=0.8)
    top = messages.get_ylim()[1]
    for mark in marks:
        messages.annotate(
            mark["label"],
            (mark["t"], top),
            rotation=90,
            fontsize="x-small",
            va="top",
            ha="right",
            color="dimgrey",
        )
    fig.savefig(path, dpi=100)


def run_stamp() -> str:
    """When, at which commit and under what load a chart was made, for its title."""
    return f"{datetime.now(UTC):%Y-%m-%d %H:%M UTC}, {commit()}, load {load_average()}"
