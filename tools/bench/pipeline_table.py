"""The pipeline alone: jobs/s (1 clap, 0 ms work) with 1 and 2 workers against a
bare consume-then-produce loop, end-to-end latency at a steady rate, and the CPU per
job of each part over the throughput run (the workers, the recorders, this process as
the site's publisher, the broker and PostgreSQL with its backends).

--observability measures each worker count with logging and tracing off (plain logs,
no span export) and on (LOG_FORMAT=json, spans exported over OTLP to a local sink
process, sampled as OTEL_TRACES_SAMPLER says or by default), in --repeat pairs of the
same run, alternately off and on first; its rows give the medians and the cost, in
throughput, latency and CPU per job."""

import dataclasses
import os
import statistics
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings

from streams import tracing
from streams.config import KafkaConfig
from tools.bench.otlp_sink import OtlpSink
from tools.bench.pipeline import Pipeline, bare_loop, default_recorders
from tools.bench.services import cpu_seconds_with, service_pids
from tools.bench.stats import percentile, table
from tools.broker.process import broker_unless_configured

PERCENTILES = (50, 95, 99)


def add_arguments(parser) -> None:
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument(
        "--recorders", type=int, help="recorder processes (default: 2 on PostgreSQL, else 1)"
    )
    parser.add_argument("--rate", type=float, default=50.0, help="jobs/s for latency")
    parser.add_argument("--seconds", type=float, default=20.0, help="latency run length")
    parser.add_argument(
        "--observability",
        action="store_true",
        help="each worker count with logging and tracing off and on (JSON logs, spans "
        "exported over OTLP to a local sink), and the cost",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=4,
        help="with --observability: off/on pairs per worker count (medians are shown)",
    )


@dataclass
class Measure:
    rate: float  # jobs/s
    latency: dict[int, float]  # percentile -> seconds
    cpu_ms: dict[str, float]  # process kind -> CPU ms per job, over the throughput run


@dataclass(frozen=True)
class Run:
    """What every measurement of one invocation shares."""

    base: KafkaConfig
    recorders: int
    services: dict[str, int]  # service_pids()
    jobs: int
    rate: float
    seconds: float


def _measure(run: Run, count: int, env=None) -> Measure:
    with Pipeline(run.base, count, recorders=run.recorders, env=env) as pipeline:
        before = cpu_seconds_with(pipeline, run.services)
        rate_done = pipeline.throughput(run.jobs)
        after = cpu_seconds_with(pipeline, run.services)
        lat = pipeline.latencies(run.rate, run.seconds)
    pipeline.forget_jobs()  # once its processes have stopped writing
    return Measure(
        rate_done,
        {p: percentile(lat, p) for p in PERCENTILES},
        {kind: 1000 * (after[kind] - before[kind]) / run.jobs for kind in before},
    )


@contextmanager
def _traced(sink: OtlpSink):
    """Logging and tracing on, for the processes (the env it gives) and for this one
    (the publisher)."""
    os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = sink.endpoint
    tracing.enable_from_env("bench")
    try:
        yield {"LOG_FORMAT": "json", "OTEL_EXPORTER_OTLP_ENDPOINT": sink.endpoint}
    finally:
        tracing.disable()
        os.environ.pop("OTEL_EXPORTER_OTLP_ENDPOINT")


def _median(measures: list[Measure]) -> Measure:
    return Measure(
        statistics.median(m.rate for m in measures),
        {p: statistics.median(m.latency[p] for m in measures) for p in PERCENTILES},
        {k: statistics.median(m.cpu_ms[k] for m in measures) for k in measures[0].cpu_ms},
    )


def run(
    database, jobs, workers, recorders, rate, seconds, observability=False, repeat=3, **_
) -> None:
    with broker_unless_configured(print) as bootstrap:
        base = dataclasses.replace(settings.KAFKA, bootstrap_servers=bootstrap)
        shared = Run(
            base,
            recorders or default_recorders(database),
            service_pids(base),
            jobs,
            rate,
            seconds,
        )
        print(f"bare loop, {jobs} messages...")
        ceiling = bare_loop(base, jobs)
        rows = [["bare consume-then-produce loop", f"{ceiling:,.0f}", "100 %", "", "", "", ""]]
        by_part = {}
        for count in [int(n) for n in workers.split(",")]:
            name = f"clapstream, {count} worker(s), {shared.recorders} recorder(s)"
            if not observability:
                print(f"pipeline with {count} worker(s), {jobs} jobs...")
                by_part[count] = measured = _measure(shared, count)
                rows.append(_row(name, ceiling, measured))
                continue
            offs, ons = [], []
            with OtlpSink() as sink:
                for n in range(1, repeat + 1):
                    # Off first in odd pairs, on first in even ones: a system that slows
                    # down as a run goes on (a growing database) favours neither.
                    first = "off" if n % 2 else "on"
                    print(f"{count} worker(s), pair {n} of {repeat}, {first} first...")
                    for state in (first, "on" if first == "off" else "off"):
                        if state == "off":
                            offs.append(_measure(shared, count))
                        else:
                            with _traced(sink) as env:
                                ons.append(_measure(shared, count, env))
                    print(f"  off {_brief(offs[-1])}\n  on  {_brief(ons[-1])}")
            print(sink.summary)
            off, on = _median(offs), _median(ons)
            rows.append(_row(f"{name}, median of {repeat}", ceiling, off))
            rows.append(_row("  with logging + tracing on", ceiling, on))
            rows.append(_cost(off, on))
    print(
        table(
            [
                "system",
                "jobs/s",
                "of ceiling",
                f"p50 @{rate:g}/s",
                "p95",
                "p99",
                "CPU per job, all parts",
            ],
            rows,
        )
    )
    if by_part:
        print(f"\nCPU per job over the throughput run, ms, by part ({database}):")
        parts = next(iter(by_part.values())).cpu_ms
        print(
            table(
                ["part", *(f"{count} worker(s)" for count in by_part)],
                [[part, *(f"{m.cpu_ms[part]:.3f}" for m in by_part.values())] for part in parts],
            )
        )


def _brief(m: Measure) -> str:
    cpu = ", ".join(f"{k} {v:.3f}" for k, v in m.cpu_ms.items())
    return f"{m.rate:,.0f} jobs/s, p99 {1000 * m.latency[99]:.0f} ms, CPU ms/job: {cpu}"


def _row(name, ceiling, m: Measure) -> list[str]:
    return [
        name,
        f"{m.rate:,.0f}",
        f"{100 * m.rate / ceiling:.0f} %",
        *(f"{1000 * m.latency[p]:.0f} ms" for p in PERCENTILES),
        f"{sum(m.cpu_ms.values()):.2f} ms",
    ]


def _cost(off: Measure, on: Measure) -> list[str]:
    """How much worse 'on' is: throughput lost, latency and CPU added, in per cent."""
    cpu_off, cpu_on = sum(off.cpu_ms.values()), sum(on.cpu_ms.values())
    return [
        "  cost of logging + tracing",
        f"{100 * (1 - on.rate / off.rate):+.1f} %",
        "",
        *(f"{100 * (on.latency[p] / off.latency[p] - 1):+.0f} %" for p in PERCENTILES),
        f"{100 * (cpu_on / cpu_off - 1):+.0f} %",
    ]
