"""Benchmarks that print figures (docs/benchmarks.md).

python -m tools.bench compare    Clapstream vs Celery on Redis vs bare loops (make bench)
python -m tools.bench pipeline   the pipeline alone, throughput and latency
python -m tools.bench sockets    the job sockets one web process holds
python -m tools.bench posts      submissions/s of the ceiling, the API and Celery's view

Each runs on a throw-away database (PostgreSQL when installed, else SQLite; choose
with --database) unless DATABASE_URL names one, and refuses one holding jobs.
"""

import argparse
import importlib
import shlex
import sys

from tools.bench.database import KINDS, ForeignJobs, bench_database, prepare
from tools.djangoenv import setup_django
from tools.stamp import stamp

COMMANDS = {
    "compare": "tools.bench.compare",
    "pipeline": "tools.bench.pipeline_table",
    "sockets": "tools.bench.sockets_table",
    "posts": "tools.bench.posts_table",
}


def main(argv: list[str] | None = None) -> None:
    first = argparse.ArgumentParser(add_help=False)
    first.add_argument("--database", choices=KINDS, default="auto")
    known, _ = first.parse_known_args(argv)
    with bench_database(known.database):
        setup_django()  # every benchmark submits through the site's code and database
        parser = argparse.ArgumentParser(
            prog="python -m tools.bench",
            description=__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
            parents=[first],
        )
        commands = parser.add_subparsers(dest="command", required=True)
        modules = {}
        for name, path in COMMANDS.items():
            modules[name] = importlib.import_module(path)
            sub = commands.add_parser(name, help=modules[name].__doc__.splitlines()[0])
            modules[name].add_arguments(sub)
        options = vars(parser.parse_args(argv))
        options.pop("database")
        try:
            engine = prepare()
        except ForeignJobs as exc:
            raise SystemExit(f"error: {exc}") from exc
        print(
            f"command: python -m tools.bench {shlex.join(sys.argv[1:] if argv is None else argv)}"
        )
        print(stamp("began"), flush=True)
        modules[options.pop("command")].run(database=engine, **options)
        # No commit here: the command may have written its figures into the docs.
        print(stamp("ended", at_commit=False))


if __name__ == "__main__":
    main()
