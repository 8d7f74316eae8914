"""The pipeline alone: jobs/s (1 clap, 0 ms work) with 1 and 2 workers against a
bare consume-then-produce loop, and end-to-end latency at a steady rate."""

from django.conf import settings

from tools.bench.pipeline import Pipeline, bare_loop
from tools.bench.stats import percentile, table
from tools.broker.process import broker_unless_configured


def add_arguments(parser) -> None:
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--rate", type=float, default=50.0, help="jobs/s for latency")
    parser.add_argument("--seconds", type=float, default=20.0, help="latency run length")


def run(jobs, workers, rate, seconds, **_) -> None:
    with broker_unless_configured(print) as bootstrap:
        base = settings.KAFKA.__class__(
            **{**settings.KAFKA.__dict__, "bootstrap_servers": bootstrap}
        )
        print(f"bare loop, {jobs} messages...")
        ceiling = bare_loop(base, jobs)
        rows = [["bare consume-then-produce loop", f"{ceiling:,.0f}", "100 %", "", "", ""]]
        for count in [int(n) for n in workers.split(",")]:
            print(f"pipeline with {count} worker(s), {jobs} jobs...")
            with Pipeline(base, count) as pipeline:
                rate_done = pipeline.throughput(jobs)
                lat = pipeline.latencies(rate, seconds)
            pipeline.forget_jobs()  # once its processes have stopped writing
            rows.append(
                [
                    f"clapstream, {count} worker(s)",
                    f"{rate_done:,.0f}",
                    f"{100 * rate_done / ceiling:.0f} %",
                    *(f"{1000 * percentile(lat, p):.0f} ms" for p in (50, 95, 99)),
                ]
            )
    print(table(["system", "jobs/s", "of ceiling", f"p50 @{rate:g}/s", "p95", "p99"], rows))
