"""Clapstream against Celery 5 on Redis and the bare loop, measured in one run."""

import dataclasses

import redis
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from streams.broker import broker_unless_configured
from streams.keda import EARLIEST, partition_lag
from streams.lag import OffsetReader
from webapp.claps.models import ClapJob
from webapp.ops.bench.pipeline import Pipeline, bare_loop, wait_until
from webapp.ops.bench.redis_server import RedisMissing, redis_server
from webapp.ops.bench.stats import table
from webapp.ops.loadgen.clients import SUBMIT_PATH


def _ms(latency: dict, key: str) -> str:
    return f"{1000 * latency[key]:,.0f} ms"


def _drained(kafka) -> bool:
    reader = OffsetReader(kafka)
    try:
        lag = reader.offsets(kafka.worker_group, kafka.topics.jobs)
        return sum(partition_lag(p, EARLIEST) for p in lag) == 0
    finally:
        reader.close()


class Command(BaseCommand):
    help = (
        "One table: pipeline jobs/s (1 clap, 0 ms work) of Clapstream, Celery on Redis and "
        "a bare confluent-kafka loop; submissions/s of the API enqueueing to Kafka and to "
        "Celery under daphne; end-to-end p50/p99 at a steady rate. Needs redis-server."
    )

    def add_arguments(self, parser):
        parser.add_argument("--jobs", type=int, default=10_000, help="per throughput run")
        parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
        parser.add_argument("--posts", type=int, default=3000, help="per submission run")
        parser.add_argument("--rate", type=float, default=50.0, help="jobs/s for latency")
        parser.add_argument("--seconds", type=float, default=20.0, help="latency run length")

    def handle(self, *args, **o):
        counts = [int(n) for n in o["workers"].split(",")]
        began = timezone.now()
        try:
            with broker_unless_configured(self.stdout.write) as bootstrap, redis_server() as url:
                call_command("migrate", verbosity=0)
                base = dataclasses.replace(settings.KAFKA, bootstrap_servers=bootstrap)
                rows = self._measure(base, url, counts, o)
        except RedisMissing as exc:
            raise CommandError(str(exc)) from exc
        finally:
            ClapJob.objects.filter(created_at__gte=began).delete()
        self.stdout.write(rows)

    def _measure(self, base, redis_url: str, counts: list[int], o: dict) -> str:
        # Imported here: the Celery app configures Django for its workers on import.
        from webapp.ops.bench.celery_workers import CeleryWorkers
        from webapp.ops.bench.site import BenchSite
        from webapp.ops.bench.urls import CELERY_SUBMIT_PATH

        jobs, say = o["jobs"], self.stdout.write
        say(f"bare loop, {jobs} messages...")
        ceiling = bare_loop(base, jobs)
        clap, celery = {}, {}
        for n in counts:
            say(f"clapstream, {n} worker(s), {jobs} jobs...")
            with Pipeline(base, n) as pipeline:
                clap[n] = pipeline.throughput(jobs)
                pipeline.forget_jobs()
            say(f"celery, {n} worker(s), {jobs} tasks...")
            with CeleryWorkers(redis_url, n) as workers:
                celery[n] = workers.throughput(jobs)

        with BenchSite(base, redis_url) as site:
            say(f"submissions, {o['posts']} to each view...")
            posts_kafka = site.submissions(SUBMIT_PATH, o["posts"])
            posts_celery = site.submissions(CELERY_SUBMIT_PATH, o["posts"])
            redis.Redis.from_url(redis_url).flushdb()  # those Celery jobs are not run
            say(f"end to end at {o['rate']:g}/s for {o['seconds']:g} s, each system...")
            started = site.start_clapstream(workers=1)
            wait_until(lambda: _drained(site.kafka), 300, "the submissions' jobs")
            lat_ws = site.latency(SUBMIT_PATH, o["rate"], o["seconds"], sockets=True)
            lat_db = site.latency(SUBMIT_PATH, o["rate"], o["seconds"])
            site.group.stop_all(timeout=30, names=started)
            with CeleryWorkers(redis_url, 1, env=site.env):
                lat_celery = site.latency(CELERY_SUBMIT_PATH, o["rate"], o["seconds"])

        rate = f"@{o['rate']:g}/s"
        headers = ["system", *[f"jobs/s, {n} worker(s)" for n in counts], "of bare loop"]
        headers += ["POST/s", f"p50 {rate}", f"p99 {rate}"]

        def row(name, rates=None, posts=None, latency=None) -> list[str]:
            cells = [name]
            cells += [f"{rates[n]:,.0f}" if rates and n in rates else "" for n in counts]
            share = [f"{100 * rates[n] / ceiling:.0f} %" for n in counts if rates and n in rates]
            cells.append(" / ".join(share))
            cells.append(f"{posts:,.0f}" if posts else "")
            cells += [_ms(latency, p) if latency else "" for p in ("p50", "p99")]
            return cells

        ratio = ["Clapstream / Celery", *[f"{clap[n] / celery[n]:.1f} x" for n in counts], ""]
        return table(
            headers,
            [
                row("bare confluent-kafka loop", {counts[0]: ceiling}),
                row("Clapstream (Kafka), done in the database", clap, posts_kafka, lat_db),
                row("Clapstream (Kafka), `done` over the WebSocket", latency=lat_ws),
                row("Celery 5 on Redis, done in the database", celery, posts_celery, lat_celery),
                [*ratio, f"{posts_kafka / posts_celery:.1f} x", "", ""],
            ],
        )
