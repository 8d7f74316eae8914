"""The run on one page: throughput, lag, workers and latency over time (PNG)."""

from pathlib import Path

from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global state


def draw(path: Path, title: str, per_second: dict[str, list], samples: list[dict]) -> None:
    """per_second as summary.per_second makes it; samples with "second", "lag", "workers"."""
    fig = Figure(figsize=(10, 11), layout="constrained")
    throughput, lag, workers, latency = fig.subplots(4, 1, sharex=True)
    fig.suptitle(title)
    seconds = per_second["second"]

    for key, label in (("sent", "sent"), ("accepted", "accepted"), ("done", "done")):
        throughput.plot(seconds, per_second[key], label=label, drawstyle="steps-post")
    throughput.set_ylabel("jobs / s")
    throughput.legend(loc="upper right")

    sampled = [s for s in samples if s["lag"] is not None]
    at = [s["second"] for s in sampled]
    lag.plot(at, [s["lag"] for s in sampled], color="tab:red")
    lag.set_ylabel("lag (messages)")
    workers.plot(at, [s["workers"] for s in sampled], color="tab:green", drawstyle="steps-post")
    workers.set_ylabel("workers")
    workers.set_ylim(bottom=0)

    for key, label in (("latency_p50", "p50"), ("latency_p99", "p99")):
        latency.plot(seconds, [v * 1000 for v in per_second[key]], label=label, marker=".")
    latency.set_ylabel("end to end (ms)\nby submission second")
    latency.set_xlabel("seconds since the first submission")
    latency.legend(loc="upper left")

    for axes in (throughput, lag, workers, latency):
        axes.grid(alpha=0.3)
    fig.savefig(path, dpi=100)
