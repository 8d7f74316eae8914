"""The services a benchmark weighs beside its own processes: the broker and, when it
runs on this machine, PostgreSQL, each with its children (PostgreSQL's backends)."""

from django.conf import settings

from tools.bench.proc import listening_pid, tree_cpu_seconds


def service_pids(base) -> dict[str, int]:
    """The processes of the broker and the database server, when they run here."""
    ports = {"Kafka broker": int(base.bootstrap_servers.split(",")[0].rsplit(":", 1)[1])}
    if settings.DATABASES["default"].get("PORT"):
        ports["PostgreSQL"] = int(settings.DATABASES["default"]["PORT"])
    found = {name: listening_pid(port) for name, port in ports.items()}
    return {name: pid for name, pid in found.items() if pid is not None}


def cpu_seconds_with(part, services: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far of a pipeline or site (its cpu_seconds()) and the services."""
    return {
        **part.cpu_seconds(),
        **{name: tree_cpu_seconds(pid) for name, pid in services.items()},
    }
