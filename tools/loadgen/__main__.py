"""Load a running site with clap jobs by profile, and measure what happens.

    python -m tools.loadgen --url URL --profile constant|ramp|spike [...]

Submits clap jobs to a running site by profile (constant, ramp or spike) from simulated
users, follows each job to its end, samples the worker group's lag, and writes
results.json and chart.png under --results/<timestamp>/. Each user is its own owner,
but every user has this machine's address: for big loads raise the site's
CLAP_SUBMIT_RATE (or add --users) and CLAP_ADDRESS_RATE (`make run` sets none)."""

import argparse
import sys
from pathlib import Path

from streams.config import kafka_config
from tools.djangoenv import setup_django
from tools.loadgen import profiles
from tools.loadgen.clients import FEED, JOB_SOCKETS
from tools.loadgen.results import new_folder, save
from tools.loadgen.runner import LoadPlan, generate
from tools.loadgen.summary import describe
from tools.stamp import stamp


def progress_line(out):
    """A single terminal line, rewritten in place."""

    def show(text: str, final: bool = False) -> None:
        out.write(f"\r{text:<110}" + ("\n" if final else ""))
        out.flush()

    return show


def arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.loadgen",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--profile", choices=["constant", "ramp", "spike"], default="constant")
    parser.add_argument("--rate", type=float, default=5.0, help="jobs/s (the base rate)")
    parser.add_argument("--peak", type=float, default=200.0, help="ramp's end, spike's rate")
    parser.add_argument(
        "--seconds", type=float, default=20.0, help="length of the constant load, ramp, spike"
    )
    parser.add_argument(
        "--base-seconds", type=float, default=30.0, help="spike: base rate before and after"
    )
    parser.add_argument("--claps", type=int, default=1, help="claps per job")
    parser.add_argument("--users", type=int, default=200, help="simulated users (owners)")
    parser.add_argument(
        "--sockets",
        choices=[JOB_SOCKETS, FEED],
        help="follow the jobs over WebSockets (done = the `done` message): 'job' opens "
        "each job's socket when its POST is answered, 'feed' has each user open its feed "
        "before submitting; without it, outcomes are read from the site's database (same "
        "DATABASE_URL; done = finished_at)",
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="per request, seconds")
    parser.add_argument("--drain-timeout", type=float, default=300.0)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument(
        "--results", type=Path, default=Path("results"), help="writes into <this>/<timestamp>/"
    )
    parser.add_argument("--out", type=Path, help="write into this folder instead")
    parser.add_argument(
        "--no-lag", action="store_true", help="do not sample the worker group in Kafka"
    )

    return parser


def main(argv: list[str] | None = None) -> None:
    o = vars(arguments().parse_args(argv))
    setup_django()  # outcomes are read from the site's database
    if o["profile"] == "constant":
        profile = profiles.constant(o["rate"], o["seconds"])
    elif o["profile"] == "ramp":
        profile = profiles.ramp(o["rate"], o["peak"], o["seconds"])
    else:
        profile = profiles.spike(o["rate"], o["peak"], o["base_seconds"], o["seconds"])
    plan = LoadPlan(
        url=o["url"],
        profile=profile,
        users=o["users"],
        claps=o["claps"],
        sockets=o["sockets"] or "",
        timeout=o["timeout"],
        drain_timeout=o["drain_timeout"],
        connections=o["connections"],
    )
    kafka = None if o["no_lag"] else kafka_config()
    print(stamp("began"))
    print(f"command: {' '.join(['python -m tools.loadgen', *sys.argv[1:]])}")
    try:
        run = generate(plan, kafka, progress_line(sys.stderr))
    except OSError as exc:
        raise SystemExit(f"error: cannot load {plan.url}: {exc}") from exc
    folder = o["out"] or new_folder(o["results"])
    summary = save(run, folder)
    print(describe(summary))
    print(f"results in {folder}/ (results.json, chart.png)")
    print(stamp("ended"))


if __name__ == "__main__":
    main()
