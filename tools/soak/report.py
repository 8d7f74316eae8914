"""The soak's figures, read from the database (the recorder's log) and from Kafka."""

import dataclasses
from dataclasses import dataclass

from django.db.models import Count, Min

from streams.lag import OffsetReader
from tools.bench.stats import percentile
from webapp.claps.models import FINAL_STATUSES, ClapJob, Status, Transition


@dataclass
class Outcome:
    """What became of the jobs."""

    accepted: int
    created: int  # job rows; more than accepted if a 202 was lost on its way back
    done: int
    failed: int
    cancelled: int
    lost: list[str]  # accepted, and missing or finished otherwise than done
    stuck: int  # not final (yet) when the drain gave up
    completed_twice: int  # more than one `done` transition
    picked_up_again: int  # attempts > 1: work done again after a fault, recorded once
    longest_wait: float  # seconds from created_at to the first start
    p99_wait: float
    dlq: int


@dataclass
class SoakReport:
    plan: dict
    outcome: Outcome
    answers: dict[str, int]
    faults: list[dict]
    fault_errors: list[str]
    processes: dict[str, dict[str, int]]  # unplanned exits, liveness kills, ... by process
    peak_lag: int
    peak_lag_at: float
    seconds: dict[str, float]
    machine: dict[str, float]

    @property
    def ok(self) -> bool:
        o = self.outcome
        return not (o.lost or o.stuck or o.completed_twice or self.fault_errors)

    def as_dict(self) -> dict:
        return {**dataclasses.asdict(self), "ok": self.ok}

    def lines(self) -> list[str]:
        o = self.outcome
        lost = f"{len(o.lost)}" + (f" (e.g. {', '.join(o.lost[:3])})" if o.lost else "")
        rows = [
            ("accepted (202)", f"{o.accepted} of {self.plan['jobs']} submitted"),
            ("job rows", f"{o.created} ({o.created - o.accepted} created without a 202)"),
            ("done / failed / cancelled", f"{o.done} / {o.failed} / {o.cancelled}"),
            ("LOST (accepted, never done)", lost),
            ("STUCK (not final after drain)", str(o.stuck)),
            ("COMPLETED TWICE", str(o.completed_twice)),
            ("picked up more than once", str(o.picked_up_again)),
            ("dead letters", f"{o.dlq} ({self.plan['poison']} malformed messages injected)"),
            ("longest wait to start", f"{o.longest_wait:.1f} s (p99 {o.p99_wait:.1f} s)"),
            ("peak worker lag", f"{self.peak_lag} messages at {self.peak_lag_at:.0f} s"),
            ("HTTP answers", ", ".join(f"{k}: {v}" for k, v in sorted(self.answers.items()))),
            *(
                (what, ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "none")
                for what, counts in self.processes.items()
            ),
            ("time", ", ".join(f"{k} {v:.0f} s" for k, v in self.seconds.items())),
            ("machine", ", ".join(f"{k} {v:g}" for k, v in self.machine.items())),
        ]
        rows += [
            (
                f"fault @{f['at']:.0f} s",
                f"{' '.join(filter(None, [f['kind'], f['detail']]))} ({f['seconds']:.1f} s)",
            )
            for f in self.faults
        ]
        rows += [("FAULT FAILED", error) for error in self.fault_errors]
        width = max(len(name) for name, _ in rows)
        return [f"{name:<{width}}  {value}" for name, value in rows]


def outcome(using: str, accepted: dict[str, int], reader: OffsetReader) -> Outcome:
    jobs = ClapJob.objects.using(using)
    by_status = dict(jobs.values_list("status").annotate(n=Count("id")))
    # Stuck jobs count as stuck, not lost: they may yet be done.
    not_failed = jobs.exclude(status__in=FINAL_STATUSES - {Status.DONE})
    unfinished_or_done = {str(pk) for pk in not_failed.values_list("id", flat=True)}
    transitions = Transition.objects.using(using)
    twice = (
        transitions.filter(status=Status.DONE)
        .values("job")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    return Outcome(
        accepted=len(accepted),
        created=jobs.count(),
        done=by_status.get(Status.DONE, 0),
        failed=by_status.get(Status.FAILED, 0),
        cancelled=by_status.get(Status.CANCELLED, 0),
        lost=sorted(job for job in accepted if job not in unfinished_or_done),
        stuck=jobs.exclude(status__in=FINAL_STATUSES).count(),
        completed_twice=twice,
        picked_up_again=jobs.filter(attempts__gt=1).count(),
        **_waits(using),
        dlq=sum(p.log_end - p.first for p in reader.offsets("soak", reader.kafka.topics.dlq)),
    )


def _waits(using: str) -> dict[str, float]:
    """From created_at to the first pick-up (a redelivery's start does not reset it)."""
    first = dict(
        Transition.objects.using(using)
        .filter(status=Status.RUNNING)
        .values_list("job")
        .annotate(first=Min("at"))
    )
    waits = [
        (first[job] - created).total_seconds()
        for job, created in ClapJob.objects.using(using).values_list("id", "created_at")
        if job in first
    ]
    if not waits:
        return {"longest_wait": 0.0, "p99_wait": 0.0}
    return {"longest_wait": max(waits), "p99_wait": percentile(waits, 99)}
