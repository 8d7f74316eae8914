"""Submissions alone: POST/s and the web's CPU per POST of the ceiling view, of POST
/api/claps/ and of the same view with Celery's delay(), on the bench's site as `make
bench` measures them, in rounds that take the views in turn (a machine that speeds up
or slows down during the run then moves every view alike), after a round of warm-up
that is not counted, with the medians over the rounds. Needs redis-server."""

import dataclasses
import statistics

import redis
from django.conf import settings

from tools.bench.database import deleting_own_jobs
from tools.bench.redis_server import RedisMissing, redis_server
from tools.bench.report import VIEW_NAMES, pct
from tools.bench.stats import table
from tools.broker.process import broker_unless_configured
from tools.web import web_processes_wanted


def add_arguments(parser) -> None:
    parser.add_argument("--posts", type=int, default=3000, help="per view and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warm-up", type=int, default=500, help="posts per view, not counted")
    parser.add_argument("--web-processes", type=int, default=web_processes_wanted())


def run(posts: int, rounds: int, warm_up: int, web_processes: int, **_) -> None:
    # Imported here: the Celery app configures Django for its workers on import.
    from tools.bench.site import BenchSite, submission_views

    rows, each = [], {}
    try:
        with (
            deleting_own_jobs(),
            broker_unless_configured(print) as bootstrap,
            redis_server() as url,
        ):
            base = dataclasses.replace(settings.KAFKA, bootstrap_servers=bootstrap)
            with BenchSite(base, url, web_processes) as site:
                for _, path in submission_views():
                    site.submissions(path, warm_up)
                for n in range(1, rounds + 1):
                    measured = {
                        name: site.submissions(path, posts) for name, path in submission_views()
                    }
                    redis.Redis.from_url(url).flushdb()  # the Celery jobs are never run
                    rows += _rows(n, measured)
                    for name, figures in measured.items():
                        each.setdefault(name, []).append(figures)
    except RedisMissing as exc:
        raise SystemExit(f"error: {exc}") from exc
    medians = {
        name: (statistics.median(r for r, _ in runs), statistics.median(c for _, c in runs))
        for name, runs in each.items()
    }
    print(
        f"{web_processes} web process(es) on one port, 32 clients posting as fast as "
        f"answered, {posts:,} POSTs per view and round:"
    )
    print(table(["round", "view", "POST/s", "of ceiling", "web CPU per POST"], rows))
    print(
        table(["medians", "view", "POST/s", "of ceiling", "web CPU per POST"], _rows("", medians))
    )


def _rows(label, measured: dict[str, tuple[float, float]]) -> list[list]:
    ceiling = measured["ceiling"][0]
    rows = [
        [label, VIEW_NAMES[name], f"{rate:,.0f}", pct(rate / ceiling), f"{cpu:.2f} ms"]
        for name, (rate, cpu) in measured.items()
    ]
    ours, theirs = measured["clapstream"][0], measured["celery"][0]
    return [*rows, [label, "Clapstream / Celery", f"{ours / theirs:.1f} x", "", ""]]
