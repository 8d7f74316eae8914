"""The recorder against any event it can decode and any delivery order: every batch
is written (nothing escapes to crash or wedge it), transitions move forward in seq,
a job is finished at most once and stays finished, and delivering everything again
changes nothing."""

import contextlib
import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams import messages
from tests.fuzz.strategies import event_dicts, raw_values
from webapp.claps.job_state import record
from webapp.claps.models import FINAL_STATUSES, ClapJob, Transition

pytestmark = pytest.mark.django_db
DB_FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _decodable(raws) -> list[messages.JobEvent]:
    events = []
    for raw in raws:
        with contextlib.suppress(messages.MalformedMessage):  # the recorder skips these
            events.append(messages.JobEvent.decode(raw))
    return events


@DB_FUZZ
@given(st.lists(raw_values(event_dicts), max_size=10))
def test_any_decodable_event_is_recorded_without_error(raws):
    job = ClapJob.objects.create(owner="anon:fuzz", claps=3)
    events = [dataclasses.replace(e, job=str(job.id)) for e in _decodable(raws)]
    record(events)  # neither a DatabaseError (the recorder would retry it for ever) nor worse
    job.refresh_from_db()
    assert job.last_seq in {0, *(e.seq for e in events)}
    finished = Transition.objects.filter(job=job, status__in=FINAL_STATUSES).count()
    assert finished == (1 if job.final else 0)


@st.composite
def histories(draw):
    """The events of a few pick-ups of one job (a redelivery starts a new pick-up;
    a zombie's events come late), each ending done, failed or nowhere, plus perhaps
    a cancellation; delivered shuffled, duplicated and in batches."""
    claps = draw(st.integers(min_value=1, max_value=4))
    events = []
    for start in draw(st.lists(st.integers(1_700_000_000_000, 1_700_000_100_000), max_size=3)):
        kinds = [messages.RUNNING, *[messages.PROGRESS] * claps]
        kinds += draw(st.sampled_from([[messages.DONE], [messages.FAILED], []]))
        events += [(start, n, kind) for n, kind in enumerate(kinds)]
    if draw(st.booleans()):
        events.append((draw(st.integers(1_700_000_000_000, 1_700_000_100_000)), 999, "cancelled"))
    again = draw(st.lists(st.sampled_from(events))) if events else []
    deliveries = draw(st.permutations(events + again))
    cuts = sorted(draw(st.lists(st.integers(0, len(deliveries)), max_size=4)))
    bounds = zip([0, *cuts], [*cuts, len(deliveries)], strict=True)
    return claps, [deliveries[a:b] for a, b in bounds]


def _event(job, pickup_ms, n, kind):
    return messages.JobEvent(
        job=str(job.id),
        type=kind,
        seq=messages.seq_of(pickup_ms, n),
        at=pickup_ms / 1000,
        done=min(n, job.claps),
        total=job.claps,
        error="" if kind in (messages.RUNNING, messages.PROGRESS, messages.DONE) else "why",
    )


@DB_FUZZ
@given(histories())
def test_any_delivery_order_finishes_a_job_at_most_once(history):
    claps, batches = history
    job = ClapJob.objects.create(owner="anon:fuzz", claps=claps)
    everything = []
    for batch in batches:
        events = [_event(job, *spec) for spec in batch]
        everything += events
        record(events)
        job.refresh_from_db()
        seqs = list(Transition.objects.filter(job=job).values_list("seq", flat=True))
        assert seqs == sorted(set(seqs))
    finals = Transition.objects.filter(job=job, status__in=FINAL_STATUSES)
    assert finals.count() <= 1
    assert job.final == finals.exists()

    before = (job.status, job.last_seq, Transition.objects.filter(job=job).count())
    record(everything)
    job.refresh_from_db()
    assert (job.status, job.last_seq, Transition.objects.filter(job=job).count()) == before
