"""Liveness (the process answers) and readiness (its database, migrated to this
release's schema, and Kafka answer)."""

import logging
import time
from functools import cache

from confluent_kafka.admin import AdminClient
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse

log = logging.getLogger(__name__)


def healthz(request):
    return JsonResponse({"status": "ok"})


@cache
def _admin() -> AdminClient:
    return AdminClient(settings.KAFKA.admin(logger=log))


def _check_database() -> None:
    """The database answers and has every migration of this code applied: a new pod
    must not take traffic before the migrate Job has run (its queries would fail on
    missing tables or columns)."""
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        pending = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan)
        raise RuntimeError(f"unapplied migrations: {pending}")


def _check_kafka() -> None:
    _admin().list_topics(timeout=settings.READINESS_TIMEOUT)


CHECKS = {"database": _check_database, "kafka": _check_kafka}
_answers: dict[tuple[str, ...], tuple[float, dict[str, str]]] = {}  # checks -> (when, failing)


def _failing(wanted: list[str]) -> dict[str, str]:
    """The failing checks among `wanted`, with why. A result younger than
    READINESS_REUSE is reused: the path is public, and each check can take up to
    READINESS_TIMEOUT (a slow Kafka) on the thread the readiness probe needs too."""
    key = tuple(sorted(set(wanted)))
    reused = _answers.get(key)
    if reused is not None and time.monotonic() - reused[0] < settings.READINESS_REUSE:
        return reused[1]
    failing = {}
    for part in key:
        try:
            CHECKS[part]()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready", with why
            failing[part] = str(exc) or exc.__class__.__name__
            log.warning("not ready: %s: %s", part, failing[part])
    _answers[key] = (time.monotonic(), failing)
    return failing


def readyz(request):
    """Every dependency by default; `?check=database` for the web pods' readiness
    probe, since the site accepts jobs into its outbox while Kafka is away."""
    wanted = request.GET.getlist("check") or list(CHECKS)
    unknown = set(wanted) - set(CHECKS)
    if unknown:
        return JsonResponse(
            {"error": f"unknown check(s) {sorted(unknown)}; choose from {sorted(CHECKS)}"},
            status=400,
        )
    failing = _failing(wanted)
    if failing:
        # The path is as public as the site: why (hosts, users, migrations) goes to the
        # log, and into the answer only in development.
        shown = failing if settings.DEBUG else sorted(failing)
        return JsonResponse({"status": "unavailable", "failing": shown}, status=503)
    return JsonResponse({"status": "ok"})
