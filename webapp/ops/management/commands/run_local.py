"""`make run`: the whole system on one machine, in one terminal."""

import signal
import sys
import threading

from django.core.management.base import BaseCommand, CommandError

from streams.broker import BrokerError, broker_unless_configured
from streams.envvars import env_bool, env_int
from webapp.ops.processes import ProcessGroup


def system_processes(
    port: int, workers: int, autoscale: bool = False
) -> list[tuple[str, list[str], dict[str, str]]]:
    """Every long-running process of the system: (name, argv, extra env). With
    autoscale, the local autoscaler runs the workers instead of a fixed count."""
    py = sys.executable
    processes = [
        (
            "web",
            [py, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "webapp.asgi:application"],
            {},
        ),
        ("recorder", [py, "manage.py", "record_events"], {}),
        ("sampler", [py, "manage.py", "sample_streams"], {}),
    ]
    if autoscale:
        processes.append(("autoscaler", [py, "manage.py", "autoscale_local"], {}))
        return processes
    for n in range(1, workers + 1):
        processes.append((f"worker-{n}", [py, "-m", "worker"], {"WORKER_ID": f"worker-{n}"}))
    return processes


class Command(BaseCommand):
    help = "Run the broker (unless KAFKA_BOOTSTRAP_SERVERS is set), the site and its processes."

    def handle(self, *args, **options):
        port = env_int("PORT", 8000, minimum=1)
        workers = env_int("LOCAL_WORKERS", 2, minimum=0)
        autoscale = env_bool("LOCAL_AUTOSCALE", False)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        try:
            with broker_unless_configured(self.stdout.write):
                self._run(port, workers, autoscale, stop)
        except BrokerError as exc:
            raise CommandError(str(exc)) from exc

    def _run(self, port: int, workers: int, autoscale: bool, stop: threading.Event) -> None:
        group = ProcessGroup(self.stdout)
        try:
            for name, argv in (
                ("migrate", ["migrate", "--noinput"]),
                ("topics", ["ensure_topics"]),
            ):
                child = group.start(name, [sys.executable, "manage.py", *argv])
                if child.proc.wait() != 0:
                    raise CommandError(f"manage.py {' '.join(argv)} failed")
            for name, argv, env in system_processes(port, workers, autoscale):
                group.start(name, argv, env)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Clapstream is up: http://127.0.0.1:{port}/  (Ctrl-C stops everything)"
                )
            )
            stop.wait()
            self.stdout.write("stopping...")
        finally:
            group.stop_all(timeout=30)
