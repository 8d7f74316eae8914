"""`make bench`: Clapstream against Celery 5 on Redis and the bare loop, measured in one run.

One table: pipeline jobs/s (1 clap, 0 ms work) of Clapstream, Celery on Redis and a bare
confluent-kafka loop; submissions/s of the API enqueueing to Kafka and to Celery under
daphne; end-to-end p50/p99 at a steady rate. Needs redis-server."""

import dataclasses

import redis
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from streams.keda import EARLIEST, partition_lag
from streams.lag import OffsetReader
from tools.bench.pipeline import Pipeline, bare_loop, wait_until
from tools.bench.redis_server import RedisMissing, redis_server
from tools.bench.stats import table
from tools.bench.workers_only import Workers, same_work_loop
from tools.broker.process import broker_unless_configured
from tools.loadgen.clients import SUBMIT_PATH
from webapp.claps.models import ClapJob


def say(line: str) -> None:
    print(line, flush=True)


def _ms(latency: dict, key: str) -> str:
    return f"{1000 * latency[key]:,.0f} ms"


def _pct(fraction: float) -> str:
    return f"{100 * fraction:.1f} %" if fraction < 0.1 else f"{100 * fraction:.0f} %"


def _incomplete(summary: dict) -> str:
    """What kept a latency run from finishing every job, in words ("" if nothing)."""
    if summary["done"] == summary["sent"]:
        return ""
    errors = ", ".join(f"{k} {v}" for k, v in summary["errors"].items())
    return f"{summary['done']} of {summary['sent']} done ({errors or 'not finished'})"


def _drained(kafka) -> bool:
    reader = OffsetReader(kafka)
    try:
        lag = reader.offsets(kafka.worker_group, kafka.topics.jobs)
        return sum(partition_lag(p, EARLIEST) for p in lag) == 0
    finally:
        reader.close()


def add_arguments(parser) -> None:
    parser.add_argument("--jobs", type=int, default=10_000, help="per throughput run")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--posts", type=int, default=3000, help="per submission run")
    parser.add_argument("--rate", type=float, default=50.0, help="jobs/s for latency")
    parser.add_argument("--seconds", type=float, default=20.0, help="latency run length")


def run(**o) -> None:
    counts = [int(n) for n in o["workers"].split(",")]
    began = timezone.now()
    try:
        with broker_unless_configured(say) as bootstrap, redis_server() as url:
            call_command("migrate", verbosity=0)
            base = dataclasses.replace(settings.KAFKA, bootstrap_servers=bootstrap)
            rows = measure(base, url, counts, o)
    except RedisMissing as exc:
        raise SystemExit(f"error: {exc}") from exc
    finally:
        ClapJob.objects.filter(created_at__gte=began).delete()
    print(rows)


def measure(base, redis_url: str, counts: list[int], o: dict) -> str:
    # Imported here: the Celery app configures Django for its workers on import.
    from tools.bench.celery_workers import CeleryWorkers

    jobs = o["jobs"]
    bare = {counts[0]: bare_loop(base, jobs)}
    say(f"bare loop, {jobs} messages: {bare[counts[0]]:,.0f}/s")
    same = {counts[0]: same_work_loop(base, jobs)}
    say(f"same work in a bare loop, {jobs} jobs: {same[counts[0]]:,.0f}/s")
    alone, pipe, celery = {}, {}, {}
    for n in counts:
        with Workers(base, n) as workers:
            alone[n] = workers.throughput(jobs)
        say(f"clapstream workers alone, {n}, {jobs} jobs: {alone[n]:,.0f}/s")
        with Pipeline(base, n) as pipeline:
            pipe[n] = pipeline.throughput(jobs)
            pipeline.forget_jobs()
        say(f"clapstream pipeline, {n} worker(s), {jobs} jobs: {pipe[n]:,.0f}/s")
        with CeleryWorkers(redis_url, n) as workers:
            celery[n] = workers.throughput(jobs)
        say(f"celery, {n} worker(s), {jobs} tasks: {celery[n]:,.0f}/s")
    posts, latency = web(base, redis_url, o)

    rate = f"@{o['rate']:g}/s"
    headers = ["system", *[f"jobs/s, {n} worker(s)" for n in counts]]
    headers += ["of bare loop", "of same-work loop", "POST/s", f"p50 {rate}", f"p99 {rate}"]

    def share(rates, ceiling) -> str:
        return " / ".join(_pct(rates[n] / ceiling[counts[0]]) for n in counts if n in rates)

    def row(name, rates=None, posts=None, latency=None) -> list[str]:
        rates = rates or {}
        cells = [name, *[f"{rates[n]:,.0f}" if n in rates else "" for n in counts]]
        cells += [share(rates, bare), share(rates, same), f"{posts:,.0f}" if posts else ""]
        return cells + [_ms(latency, p) if latency else "" for p in ("p50", "p99")]

    def ratio(name, ours, theirs, posts="") -> list[str]:
        return [name, *[f"{ours[n] / theirs[n]:.1f} x" for n in counts], "", "", posts, "", ""]

    return table(
        headers,
        [
            row("bare confluent-kafka loop (no work, 1 tiny event)", bare),
            row("the worker's work in a bare loop (3 events, WAV)", same),
            row("Clapstream workers alone (done event in Kafka)", alone),
            row("Clapstream pipeline (done in the database)", pipe, *posts[:1], latency["db"]),
            row("Clapstream, `done` over the WebSocket", latency=latency["ws"]),
            row("Celery 5 on Redis (result in Redis)", celery, *posts[1:], latency["celery"]),
            ratio("Clapstream workers / Celery", alone, celery),
            ratio("Clapstream pipeline / Celery", pipe, celery, f"{posts[0] / posts[1]:.1f} x"),
        ],
    )


def web(base, redis_url: str, o: dict) -> tuple[list[float], dict[str, dict]]:
    """Submissions/s of each view, then end-to-end latency of each system."""
    from tools.bench.celery_workers import CeleryWorkers
    from tools.bench.site import BenchSite
    from tools.bench.urls import CELERY_SUBMIT_PATH

    rate, seconds = o["rate"], o["seconds"]
    with BenchSite(base, redis_url) as site:
        posts = [site.submissions(path, o["posts"]) for path in (SUBMIT_PATH, CELERY_SUBMIT_PATH)]
        say(f"submissions/s: {posts[0]:,.0f} (Kafka), {posts[1]:,.0f} (Celery)")
        redis.Redis.from_url(redis_url).flushdb()  # those Celery jobs are not run
        started = site.start_clapstream(workers=1)
        wait_until(lambda: _drained(site.kafka), 300, "the submissions' jobs")
        runs = {"ws": site.latency(SUBMIT_PATH, rate, seconds, sockets=True)}
        runs["db"] = site.latency(SUBMIT_PATH, rate, seconds)
        site.group.stop_all(timeout=30, names=started)
        with CeleryWorkers(redis_url, 1, env=site.env):
            runs["celery"] = site.latency(CELERY_SUBMIT_PATH, rate, seconds)
    for name, summary in runs.items():
        p50, p99 = (summary["end_to_end_latency"][k] for k in ("p50", "p99"))
        say(f"latency {name}: p50 {p50:.3f} s, p99 {p99:.3f} s {_incomplete(summary)}")
    return posts, {name: summary["end_to_end_latency"] for name, summary in runs.items()}
