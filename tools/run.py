"""`make run`: the whole system on one machine, in one terminal.

    python -m tools.run     (PORT, WEB_PROCESSES, LOCAL_WORKERS, LOCAL_AUTOSCALE, ...)

Runs the broker (unless KAFKA_BOOTSTRAP_SERVERS is set), migrates, creates the topics,
then the site and its processes until Ctrl-C, SIGTERM or SIGHUP; a process that exits
meanwhile is started again (tools/supervisor.py)."""

import argparse
import signal
import sys
import threading
from functools import partial

from streams.envvars import env_bool, env_int
from tools.broker import BrokerError
from tools.broker.process import broker_unless_configured
from tools.processes import ProcessGroup
from tools.supervisor import Supervisor
from tools.web import PortTaken, refuse_taken, start_web_process, web_names, web_processes_wanted


def system_processes(
    workers: int, autoscale: bool = False
) -> list[tuple[str, list[str], dict[str, str]]]:
    """Every long-running process of the system but the web's: (name, argv, extra
    env). With autoscale, the local autoscaler runs the workers instead of a fixed
    count. One recorder: a consumer group of one member."""
    py = sys.executable
    processes = [
        ("recorder", [py, "manage.py", "record_events"], {}),
        ("sampler", [py, "manage.py", "sample_streams"], {}),
    ]
    if autoscale:
        processes.append(("autoscaler", [py, "-m", "tools.autoscale"], {}))
        return processes
    for n in range(1, workers + 1):
        processes.append((f"worker-{n}", [py, "-m", "worker"], {"WORKER_ID": f"worker-{n}"}))
    return processes


def run(port: int, web: int, workers: int, autoscale: bool, stop: threading.Event) -> None:
    group = ProcessGroup()
    try:
        refuse_taken(port)
        for name, argv in (
            ("migrate", ["migrate", "--noinput"]),
            ("topics", ["ensure_topics"]),
        ):
            child = group.start(name, [sys.executable, "manage.py", *argv])
            if child.proc.wait() != 0:
                raise SystemExit(f"error: manage.py {' '.join(argv)} failed")
            if stop.is_set():
                return
        supervisor = Supervisor(group)
        for name in web_names(web):
            supervisor.start(name, partial(start_web_process, group, port, name))
        for name, argv, env in system_processes(workers, autoscale):
            supervisor.start(name, partial(group.start, name, argv, env))
        print(f"Clapstream is up: http://127.0.0.1:{port}/  (Ctrl-C stops everything)", flush=True)
        while not stop.wait(1.0):
            supervisor.check()
        print("stopping...", flush=True)
    except PortTaken as exc:
        raise SystemExit(f"error: {exc}") from exc
    finally:
        group.stop_all(timeout=30)


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(
        prog="python -m tools.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    ).parse_args(argv)
    port = env_int("PORT", 8000, minimum=1)
    workers = env_int("LOCAL_WORKERS", 2, minimum=0)
    autoscale = env_bool("LOCAL_AUTOSCALE", False)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # SIGHUP: terminal closed
        signal.signal(sig, lambda *_: stop.set())
    try:
        with broker_unless_configured(lambda line: print(line, flush=True)):
            run(port, web_processes_wanted(), workers, autoscale, stop)
    except BrokerError as exc:
        raise SystemExit(f"error: {exc}") from exc


if __name__ == "__main__":
    main()
