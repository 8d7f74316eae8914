"""Jobs of every state, old and recent, with their timelines and applause, and handled
dead letters: what the retention tests prune."""

from datetime import timedelta

from django.utils import timezone

from webapp.claps.models import Applause, ClapJob, Status, Transition
from webapp.dashboard.models import DeadLetterAction

OLD = timedelta(days=31)  # past the default 30 days
RECENT = timedelta(days=29)
# A handled letter's record outlives the default 30 days by the 8 its letter may
# outlive them in Kafka.
LETTER_OLD, LETTER_RECENT = timedelta(days=39), timedelta(days=37)


def seed(using: str = "default", per_state: int = 2) -> dict[tuple[str, str], set]:
    """(status, "old"|"recent") -> job ids; and ("dead letters", age) -> action ids."""
    now = timezone.now()
    made: dict[tuple[str, str], set] = {}
    offset = 0
    for status in Status:
        for age, delta in (("old", OLD), ("recent", RECENT)):
            ids = made.setdefault((status, age), set())
            for _ in range(per_state):
                job = ClapJob.objects.using(using).create(owner="anon:x", claps=2)
                final = status in (Status.DONE, Status.FAILED, Status.CANCELLED)
                ClapJob.objects.using(using).filter(id=job.id).update(
                    status=status,
                    created_at=now - delta - timedelta(minutes=5),
                    finished_at=now - delta if final else None,
                )
                Transition.objects.using(using).create(
                    job=job, status=Status.RUNNING, seq=1, at=now - delta
                )
                if status == Status.DONE:
                    Applause.of(job.pk, b"RIFF").save(using=using, force_insert=True)
                ids.add(job.id)
        for age, delta in (("old", LETTER_OLD), ("recent", LETTER_RECENT)):
            action = DeadLetterAction.objects.using(using).create(
                topic="clap.jobs.dlq", partition=0, offset=offset, action="discard"
            )
            offset += 1
            DeadLetterAction.objects.using(using).filter(id=action.id).update(at=now - delta)
            made.setdefault(("dead letters", age), set()).add(action.id)
    return made


def expected_left(made) -> tuple[set, set]:
    """(job ids, dead-letter action ids) that retention keeps."""
    finished = {Status.DONE, Status.FAILED, Status.CANCELLED}
    jobs = set().union(
        *(
            ids
            for (status, age), ids in made.items()
            if status != "dead letters" and (age == "recent" or status not in finished)
        )
    )
    return jobs, made[("dead letters", "recent")]
