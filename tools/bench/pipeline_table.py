"""The pipeline alone: jobs/s (1 clap, 0 ms work) with 1 and 2 workers against a
bare consume-then-produce loop, and end-to-end latency at a steady rate.

--observability measures each worker count twice in the same run: plain logs and no
span export, then JSON logs (LOG_FORMAT=json) with every span exported over OTLP to
a local sink; its rows give the cost of logging and tracing."""

import os
from contextlib import ExitStack

from django.conf import settings

from streams import tracing
from tools.bench.otlp_sink import OtlpSink
from tools.bench.pipeline import Pipeline, bare_loop
from tools.bench.stats import percentile, table
from tools.broker.process import broker_unless_configured


def add_arguments(parser) -> None:
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--rate", type=float, default=50.0, help="jobs/s for latency")
    parser.add_argument("--seconds", type=float, default=20.0, help="latency run length")
    parser.add_argument(
        "--observability",
        action="store_true",
        help="each worker count with logging and tracing off, then on (JSON logs, spans "
        "exported over OTLP to a local sink), and the cost",
    )


def _measure(base, count, jobs, rate, seconds, env=None) -> tuple[float, list[float]]:
    with Pipeline(base, count, env=env) as pipeline:
        rate_done = pipeline.throughput(jobs)
        lat = pipeline.latencies(rate, seconds)
    pipeline.forget_jobs()  # once its processes have stopped writing
    return rate_done, lat


def _traced(sink: OtlpSink) -> dict[str, str]:
    """Logging and tracing on, for the processes and for this one (the publisher)."""
    env = {"LOG_FORMAT": "json", "OTEL_EXPORTER_OTLP_ENDPOINT": sink.endpoint}
    os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = sink.endpoint
    tracing.enable_from_env("bench")
    return env


def run(jobs, workers, rate, seconds, observability=False, **_) -> None:
    with broker_unless_configured(print) as bootstrap, ExitStack() as stack:
        base = settings.KAFKA.__class__(
            **{**settings.KAFKA.__dict__, "bootstrap_servers": bootstrap}
        )
        print(f"bare loop, {jobs} messages...")
        ceiling = bare_loop(base, jobs)
        rows = [["bare consume-then-produce loop", f"{ceiling:,.0f}", "100 %", "", "", ""]]
        for count in [int(n) for n in workers.split(",")]:
            print(f"pipeline with {count} worker(s), {jobs} jobs...")
            off = _measure(base, count, jobs, rate, seconds)
            rows.append(_row(f"clapstream, {count} worker(s)", ceiling, *off))
            if not observability:
                continue
            sink = stack.enter_context(OtlpSink())
            print(f"again with JSON logs and spans exported to {sink.endpoint}...")
            on = _measure(base, count, jobs, rate, seconds, env=_traced(sink))
            tracing.disable()
            os.environ.pop("OTEL_EXPORTER_OTLP_ENDPOINT")
            print(f"the sink took {sink.requests} exports, {sink.bytes:,} bytes")
            rows.append(_row("  with logging + tracing on", ceiling, *on))
            rows.append(_cost(off, on))
    print(table(["system", "jobs/s", "of ceiling", f"p50 @{rate:g}/s", "p95", "p99"], rows))


def _row(name, ceiling, rate_done, lat) -> list[str]:
    return [
        name,
        f"{rate_done:,.0f}",
        f"{100 * rate_done / ceiling:.0f} %",
        *(f"{1000 * percentile(lat, p):.0f} ms" for p in (50, 95, 99)),
    ]


def _cost(off, on) -> list[str]:
    """How much worse 'on' is: throughput lost, and latency added, in per cent."""
    (rate_off, lat_off), (rate_on, lat_on) = off, on
    worse = [
        f"{100 * (percentile(lat_on, p) / percentile(lat_off, p) - 1):+.0f} %" for p in (50, 95, 99)
    ]
    return ["  cost of logging + tracing", f"{100 * (1 - rate_on / rate_off):+.1f} %", "", *worse]
