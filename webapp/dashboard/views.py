"""The Streams pages of the admin. Staff only: urls.py wraps each in admin_view."""

import dataclasses
import logging
from dataclasses import dataclass
from enum import Enum

from confluent_kafka import KafkaException
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.models import ADDITION, LogEntry
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from webapp.dashboard import deadletters, history, overview, services
from webapp.dashboard.groups import GroupInfo, describe_groups
from webapp.dashboard.models import DeadLetterAction
from webapp.dashboard.watched import sampled_pairs
from webapp.dashboard.workers import worker_activity

log = logging.getLogger(__name__)
LIVE_TIMEOUT = 2.0  # seconds: the only Kafka request of a refresh


@dataclass(frozen=True)
class GroupPanel:
    overview: overview.GroupOverview
    live: GroupInfo | None
    rows: list[overview.PartitionRow]  # after the "only partitions with lag" filter


def _options(request) -> tuple[str, bool]:
    range_key = request.GET.get("range", "1h")
    return (range_key if range_key in history.RANGES else "1h"), request.GET.get("lagging") == "1"


def _describe_live(kafka) -> tuple[dict[str, GroupInfo], str]:
    groups = [group for group, _ in sampled_pairs(kafka)]
    try:
        return describe_groups(kafka, groups, timeout=LIVE_TIMEOUT), ""
    except KafkaException as exc:
        log.warning("describing the groups failed: %s", exc)
        return {}, f"Kafka did not describe the groups within {LIVE_TIMEOUT:g} s: {exc}"


def _live_context(request) -> dict:
    kafka = settings.KAFKA
    range_key, lagging_only = _options(request)
    groups = overview.overviews(kafka)
    live, live_error = _describe_live(kafka)
    panels = [
        GroupPanel(
            g,
            live.get(g.group),
            [r for r in g.partitions if r.unread > 0] if lagging_only else g.partitions,
        )
        for g in groups
    ]
    workers = overview.workers_overview(kafka, groups)
    live_workers = live.get(workers.group)
    now = timezone.now()
    sampled_at = max((g.sampled_at for g in groups if g.sampled_at), default=None)
    return {
        "now": now,
        "sampled_at": sampled_at,
        "sampler_stale": overview.sample_stale(sampled_at, now),
        "panels": panels,
        "live_error": live_error,
        "lagging_only": lagging_only,
        "range_key": range_key,
        "sample_interval": settings.SAMPLE_INTERVAL,
        "scaling": settings.KEDA,
        "decision": overview.autoscaling(kafka, settings.KEDA, workers),
        "worker_members": len(live_workers.members) if live_workers else workers.members,
        "jobs": overview.job_rates(now),
        "workers": worker_activity(now, _member_ids(live_workers)),
        "charts": history.charts(kafka, range_key, now),
    }


def _member_ids(info: GroupInfo | None) -> tuple[str, ...]:
    return tuple(member.client_id for member in info.members) if info else ()


@require_GET
def streams(request):
    context = {
        **admin.site.each_context(request),
        **_live_context(request),
        "title": "Streams",
        "live_url": f"{reverse('dashboard:live')}?{request.GET.urlencode()}",
        "ranges": list(history.RANGES),
    }
    return render(request, "dashboard/streams.html", context)


@require_GET
def live(request):
    """The refreshing part of the page, fetched by streams.js every few seconds."""
    return render(request, "dashboard/_live.html", _live_context(request))


def _as_json(value) -> dict:
    """A dataclass as JSON-ready data, enums by name."""
    return dataclasses.asdict(
        value,
        dict_factory=lambda items: {k: v.name if isinstance(v, Enum) else v for k, v in items},
    )


@require_GET
def data(request):
    """The dashboard's figures as JSON, for scripts and tests."""
    kafka = settings.KAFKA
    now = timezone.now()
    groups = overview.overviews(kafka)
    workers = overview.workers_overview(kafka, groups)
    return JsonResponse(
        {
            "groups": [{**_as_json(g), "total_lag": g.total_lag} for g in groups],
            "autoscaling": _as_json(overview.autoscaling(kafka, settings.KEDA, workers)),
            "jobs": _as_json(overview.job_rates(now)),
            "workers": [_as_json(w) for w in worker_activity(now)],
        }
    )


# Requeuing retries a job and discarding settles its fate: the permission the admin's
# job actions ask for, not just a staff account.
ACT_ON_JOBS = "claps.change_clapjob"


@require_http_methods(["GET", "POST"])
def dead_letters(request):
    kafka = settings.KAFKA
    if request.method == "POST":
        if not request.user.has_perm(ACT_ON_JOBS):
            raise PermissionDenied(
                "requeuing or discarding a dead letter needs the permission to change clap jobs"
            )
        _handle_dead_letter(request)
        return redirect("dashboard:dead_letters")
    letters, error = [], ""
    try:
        letters = deadletters.recent(kafka)
    except KafkaException as exc:
        error = f"Kafka did not answer: {exc}"
    handled = {
        (a.partition, a.offset): a
        for a in DeadLetterAction.objects.filter(topic=kafka.topics.dlq).select_related("by")
    }
    context = {
        **admin.site.each_context(request),
        "title": "Dead letters",
        "topic": kafka.topics.dlq,
        "letters": [(letter, handled.get((letter.partition, letter.offset))) for letter in letters],
        "error": error,
        "may_act": request.user.has_perm(ACT_ON_JOBS),
    }
    return render(request, "dashboard/dead_letters.html", context)


def _handle_dead_letter(request) -> None:
    try:
        partition, offset = int(request.POST["partition"]), int(request.POST["offset"])
        action = DeadLetterAction.Action(request.POST["action"])
    except (KeyError, ValueError):
        messages.error(request, "Unknown dead letter or action.")
        return
    try:
        handled = services.dead_letter_handle(
            user=request.user, partition=partition, offset=offset, action=action
        )
    except (
        services.AlreadyHandled,
        services.NoSuchLetter,
        services.NotRequeueable,
        deadletters.RequeueError,
    ) as exc:
        messages.error(request, str(exc))
    except KafkaException as exc:
        messages.error(request, f"Kafka did not answer: {exc}")
    except DatabaseError as exc:
        messages.error(request, f"The database did not answer: {exc}")
    else:
        done = "requeued" if action == DeadLetterAction.Action.REQUEUE else "discarded"
        messages.success(request, f"Dead letter {partition}@{offset} {done}.")
        # Beside the action row itself, in the admin's history like the job actions.
        resubmitted = f" as job {handled.resubmitted_as}" if handled.resubmitted_as else ""
        LogEntry.objects.log_actions(
            request.user.pk,
            [handled],
            ADDITION,
            change_message=f"{done.capitalize()} the letter of job {handled.key}{resubmitted}.",
            single_object=True,
        )
