"""`make spike`: the spike profile against a fresh local stack, and its chart.

    python -m tools.spike [--fixed-workers N] [--rate R] [--peak P] ...

Starts a fresh local stack (private broker, database and port) with the lag
autoscaler, or --fixed-workers, runs the loadgen spike profile against it, stops it,
and reports how fast the spike drained against the ideal for 12 workers."""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tools.bench.database import KINDS, bench_database
from tools.loadgen.readiness import NotReady, wait_ready
from tools.loadgen.results import new_folder
from tools.loadgen.summary import drain_of
from tools.ports import free_port
from tools.processes import ProcessGroup
from tools.stamp import stamp

READY_TIMEOUT = 240.0


def arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.spike",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    profile_arguments(parser, rate=5.0, peak=200.0, base_seconds=30.0, users=200)
    parser.add_argument("--fixed-workers", type=int, help="instead of the autoscaler")
    parser.add_argument(
        "--database",
        choices=KINDS,
        default="auto",
        help="a throw-away PostgreSQL (auto: when installed) or SQLite, unless DATABASE_URL",
    )
    return parser


def profile_arguments(
    parser: argparse.ArgumentParser, rate: float, peak: float, base_seconds: float, users: int
) -> None:
    """The spike profile's options, with this stack's defaults (a local one or the
    cluster's), and where its results go."""
    parser.add_argument("--rate", type=float, default=rate, help="jobs/s before and after")
    parser.add_argument("--peak", type=float, default=peak, help="jobs/s in the spike")
    parser.add_argument("--seconds", type=float, default=20.0, help="of the peak")
    parser.add_argument("--base-seconds", type=float, default=base_seconds)
    parser.add_argument("--users", type=int, default=users)
    parser.add_argument("--results", type=Path, default=Path("results"))


def loadgen_argv(url: str, o: dict, folder: Path) -> list[str]:
    """The load generator running the spike profile of those options against url."""
    return [
        *[sys.executable, "-m", "tools.loadgen", "--profile", "spike", "--url", url],
        *["--rate", str(o["rate"]), "--peak", str(o["peak"])],
        *["--seconds", str(o["seconds"]), "--base-seconds", str(o["base_seconds"])],
        *["--users", str(o["users"]), "--out", str(folder)],
    ]


def main(argv: list[str] | None = None) -> None:
    o = vars(arguments().parse_args(argv))
    folder = new_folder(o["results"])
    scratch = Path(tempfile.mkdtemp(prefix="clapstream-spike-"))
    kafka_port, web_port = free_port(), free_port()
    url = f"http://127.0.0.1:{web_port}"
    env = {
        "DEBUG": "true",
        "PORT": str(web_port),
        "VAR_DIR": str(scratch),
        "LOCAL_KAFKA_PORT": str(kafka_port),
        "LOCAL_KAFKA_DATA": str(scratch / "broker"),
        "KAFKA_BOOTSTRAP_SERVERS": "",  # always a fresh private broker
        "CLAP_WORK_MS": os.environ.get("CLAP_WORK_MS", "200"),
        # Every simulated user is on the loopback address: no per-address limit.
        "CLAP_ADDRESS_RATE": os.environ.get("CLAP_ADDRESS_RATE", ""),
        "LOCAL_AUTOSCALE": "false" if o["fixed_workers"] else "true",
        "LOCAL_WORKERS": str(o["fixed_workers"] or 0),
    }
    workers = f"{o['fixed_workers']} fixed workers" if o["fixed_workers"] else "autoscaler"
    print(stamp("began"))
    print(f"command: {' '.join(['python -m tools.spike', *sys.argv[1:]])}")
    print(f"stack ({workers}) at {url}, logs in {folder / 'stack.log'}")
    with open(folder / "stack.log", "w") as log, bench_database(o["database"]):
        print(f"database: {os.environ['DATABASE_URL'].split(':', 1)[0]}")
        group = ProcessGroup(log)
        try:
            stack = group.start("stack", [sys.executable, "-m", "tools.run"], env)
            try:
                wait_ready(url, stack, READY_TIMEOUT)
            except NotReady as exc:
                raise SystemExit(f"error: {exc}; see stack.log") from exc
            loadgen = loadgen_argv(url, o, folder)
            loadgen_env = {
                **os.environ,
                **env,
                "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{kafka_port}",
            }
            if subprocess.run(loadgen, env=loadgen_env, check=False).returncode != 0:
                raise SystemExit("error: loadgen failed")
        finally:
            group.stop_all(timeout=90)
            shutil.rmtree(scratch, ignore_errors=True)
    report_drain(folder, o, int(env["CLAP_WORK_MS"]))
    print(stamp("ended"))


def report_drain(folder: Path, o: dict, work_ms: int) -> None:
    results = json.loads((folder / "results.json").read_text())
    drain = drain_of(results["requests"], o["base_seconds"], o["base_seconds"] + o["seconds"])
    ideal = drain["jobs"] * work_ms / 1000 / 12
    drain["ideal_for_12_workers"] = ideal
    drain["workers"] = f"{o['fixed_workers']} fixed" if o["fixed_workers"] else "lag autoscaler"
    results["spike"] = drain
    (folder / "results.json").write_text(json.dumps(results, indent=1))
    took = drain["drained_after"]
    verdict = (
        f"{took:.1f} s = {took / ideal:.2f} x the ideal {ideal:.1f} s"
        if took and ideal
        else "not drained"
    )
    print(
        f"spike: {drain['jobs']} jobs sent in the peak, {drain['done']} done; "
        f"last done {verdict} ({drain['workers']})"
    )


if __name__ == "__main__":
    main()
