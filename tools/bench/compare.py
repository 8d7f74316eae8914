"""`make bench`: Clapstream against Celery 5 on Redis and the bare loop, measured in one run.

Pipeline jobs/s (1 clap, 0 ms work) of Clapstream, Celery on Redis and bare
confluent-kafka loops; submissions/s of a trivial view (the server stack's ceiling),
the API enqueueing to Kafka and the same view enqueueing to Celery; end-to-end latency
at a steady rate, over the WebSocket and in the database. Writes its tables into
docs/benchmarks.md (--doc) with the date, commit, load average and command. Needs
redis-server."""

import dataclasses
import sys
from datetime import UTC, datetime
from pathlib import Path

import redis
from django.conf import settings

from streams.keda import EARLIEST, partition_lag
from streams.lag import OffsetReader
from tools.bench.database import deleting_own_jobs
from tools.bench.pipeline import Pipeline, bare_loop, default_recorders, wait_until
from tools.bench.redis_server import RedisMissing, redis_server
from tools.bench.report import Report, ms
from tools.bench.services import cpu_seconds_with, service_pids
from tools.bench.workers_only import Workers, same_work_loop
from tools.broker.process import broker_unless_configured
from tools.loadgen.clients import FEED, JOB_SOCKETS, SUBMIT_PATH
from tools.web import web_processes_wanted

DOC = Path("docs/benchmarks.md")


def say(line: str) -> None:
    print(line, flush=True)


def _drained(kafka) -> bool:
    """The workers have every job and the recorder every event (a latency run must not
    start while the recorder still writes the submission runs' jobs)."""
    reader = OffsetReader(kafka)
    try:
        return all(
            sum(partition_lag(p, EARLIEST) for p in reader.offsets(group, topic)) == 0
            for group, topic in (
                (kafka.worker_group, kafka.topics.jobs),
                (kafka.recorder_group, kafka.topics.events),
            )
        )
    finally:
        reader.close()


def add_arguments(parser) -> None:
    parser.add_argument("--jobs", type=int, default=10_000, help="per throughput run")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument(
        "--recorders", type=int, help="recorder processes (default: 2 on PostgreSQL, else 1)"
    )
    parser.add_argument("--posts", type=int, default=3000, help="per submission run")
    parser.add_argument("--rate", type=float, default=50.0, help="jobs/s for latency")
    parser.add_argument("--seconds", type=float, default=20.0, help="latency run length")
    parser.add_argument("--peak", type=float, default=200.0, help="jobs/s, the spike's rate")
    parser.add_argument("--peak-seconds", type=float, default=10.0)
    parser.add_argument("--web-processes", type=int, default=web_processes_wanted())
    parser.add_argument("--doc", type=Path, default=DOC, help="rewrites its marked section")
    parser.add_argument("--no-doc", action="store_true", help="print only")


def run(database: str, **o) -> None:
    counts = [int(n) for n in o["workers"].split(",")]
    recorders = o["recorders"] or default_recorders(database)
    report = Report(command=_command(), database=database, began=datetime.now(UTC))
    try:
        with deleting_own_jobs(), broker_unless_configured(say) as bootstrap, redis_server() as url:
            base = dataclasses.replace(settings.KAFKA, bootstrap_servers=bootstrap)
            pipeline(report, base, url, counts, recorders, o)
            web(report, base, url, o)
    except RedisMissing as exc:
        raise SystemExit(f"error: {exc}") from exc
    report.finish()
    print(report.markdown())
    if not o["no_doc"]:
        report.write_into(o["doc"])
        say(f"written into {o['doc']}")


def _command() -> str:
    return " ".join(["python -m tools.bench", *sys.argv[1:]])


def pipeline(report: Report, base, redis_url: str, counts: list[int], recorders: int, o):
    # Imported here: the Celery app configures Django for its workers on import.
    from tools.bench.celery_workers import CeleryWorkers

    jobs = o["jobs"]
    bare = bare_loop(base, jobs)
    say(f"bare loop, {jobs} messages: {bare:,.0f}/s")
    same = same_work_loop(base, jobs)
    say(f"same work in a bare loop, {jobs} jobs: {same:,.0f}/s")
    alone, pipe, celery, cpu = {}, {}, {}, {}
    services = service_pids(base)
    for n in counts:
        with Workers(base, n) as workers:
            alone[n] = workers.throughput(jobs)
        say(f"clapstream workers alone, {n}, {jobs} jobs: {alone[n]:,.0f}/s")
        with Pipeline(base, n, recorders=recorders) as line:
            before = cpu_seconds_with(line, services)
            pipe[n] = line.throughput(jobs)
            after = cpu_seconds_with(line, services)
        line.forget_jobs()  # once its processes have stopped writing
        cpu[n] = {part: 1000 * (after[part] - used) / jobs for part, used in before.items()}
        say(f"clapstream pipeline, {n} worker(s), {recorders} recorder(s): {pipe[n]:,.0f}/s")
        say(f"  CPU ms per job: {', '.join(f'{k} {v:.3f}' for k, v in cpu[n].items())}")
        with CeleryWorkers(redis_url, n) as workers:
            celery[n] = workers.throughput(jobs)
        say(f"celery, {n} worker(s), {jobs} tasks: {celery[n]:,.0f}/s")
    report.pipeline(counts, recorders, bare, same, alone, pipe, celery)
    report.pipeline_cpu(counts, cpu)


def web(report: Report, base, redis_url: str, o: dict) -> None:
    """Submissions/s of each view, then end-to-end latency of each system."""
    from tools.bench.celery_workers import CeleryWorkers
    from tools.bench.site import BenchSite, submission_views
    from tools.bench.urls import CELERY_SUBMIT_PATH

    rate, seconds, processes = o["rate"], o["seconds"], o["web_processes"]
    with BenchSite(base, redis_url, processes) as site:
        posts = {}
        for name, path in submission_views():
            posts[name] = site.submissions(path, o["posts"])
            say(f"{name}: {posts[name][0]:,.0f} POST/s, {posts[name][1]:.2f} ms web CPU each")
        redis.Redis.from_url(redis_url).flushdb()  # those Celery jobs are not run
        started = site.start_clapstream(workers=1)
        wait_until(lambda: _drained(site.kafka), 300, "the submissions' jobs")
        runs, peak_cpu, services = {}, {}, service_pids(base)
        for sockets in (JOB_SOCKETS, FEED):
            runs[(sockets, rate)] = site.latency(SUBMIT_PATH, rate, seconds, sockets)
        runs[("database", rate)] = site.latency(SUBMIT_PATH, rate, seconds)
        for sockets in (JOB_SOCKETS, FEED):
            before = cpu_seconds_with(site, services)
            runs[(sockets, o["peak"])] = summary = site.latency(
                SUBMIT_PATH, o["peak"], o["peak_seconds"], sockets, users=200
            )
            after = cpu_seconds_with(site, services)
            peak_cpu[sockets] = {
                part: 1000 * (after[part] - used) / summary["sent"] for part, used in before.items()
            }
        site.group.stop_all(timeout=30, names=started)
        with CeleryWorkers(redis_url, 1, env=site.env):
            runs[("celery", rate)] = site.latency(CELERY_SUBMIT_PATH, rate, seconds)
    for (kind, at), summary in runs.items():
        e2e = summary["end_to_end_latency"]
        say(
            f"latency {kind} @{at:g}/s: {summary['done']} of {summary['sent']} done, "
            f"live {summary['seen_live']}, p50 {ms(e2e['p50'])}, p99 {ms(e2e['p99'])}, "
            f"errors {summary['errors'] or 'none'}"
        )
    report.web(processes, posts, runs)
    report.peak_cpu(o["peak"], peak_cpu)
