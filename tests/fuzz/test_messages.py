"""Strict decoding, whatever arrives: a message either decodes into one that keeps
every promise of its schema, or is refused with MalformedMessage and a reason.
Nothing else may escape (a stray exception would crash a worker slot or the
recorder)."""

import math
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams import messages
from tests.fuzz.strategies import event_dicts, job_dicts, raw_values

FUZZ = settings(max_examples=400, deadline=None)


def decoded_or_reason(decode, raw):
    try:
        return decode(raw)
    except messages.MalformedMessage as exc:
        assert str(exc), "a refusal must say why"
        return None


def _canonical(job_id: str) -> bool:
    return str(uuid.UUID(job_id)) == job_id


@FUZZ
@given(raw_values(job_dicts))
def test_job_requests_decode_within_their_schema_or_are_refused(raw):
    job = decoded_or_reason(messages.JobRequest.decode, raw)
    if job is None:
        return
    assert _canonical(job.id)
    assert 1 <= job.claps <= messages.MAX_CLAPS
    assert len(job.note) <= messages.MAX_NOTE
    assert math.isfinite(job.submitted_at)
    assert len(job.feed) <= messages.MAX_FEED
    assert messages.JobRequest.decode(job.encode()) == job


@FUZZ
@given(raw_values(event_dicts))
def test_job_events_decode_within_their_schema_or_are_refused(raw):
    event = decoded_or_reason(messages.JobEvent.decode, raw)
    if event is None:
        return
    assert _canonical(event.job)
    assert event.type in messages.EVENT_TYPES
    datetime.fromtimestamp(event.at, UTC)  # a time the recorder can store
    assert len(event.feed) <= messages.MAX_FEED
    assert len(event.worker) <= messages.MAX_WORKER  # what the database can store
    assert "\x00" not in event.worker + event.error
    assert messages.JobEvent.decode(event.encode()) == event


@FUZZ
@given(raw_values(st.fixed_dictionaries({"v": st.just(1), "type": st.just("cancel")})))
def test_cancel_requests_decode_or_are_refused(raw):
    request = decoded_or_reason(messages.CancelRequest.decode, raw)
    if request is not None:
        assert _canonical(request.job)
        assert math.isfinite(request.at)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("worker", "w" * (messages.MAX_WORKER + 1), "field 'worker' longer than 120"),
        ("worker", "pod\x00-7", "field 'worker' holds a NUL"),
        ("error", "clap 3 failed:\x00", "field 'error' holds a NUL"),
        ("feed", "f" * (messages.MAX_FEED + 1), "field 'feed' longer than 64"),
        # No database can store a lone surrogate: the recorder would fail on it for ever.
        ("error", "clap 3 failed: \udc80", "field 'error' is not valid Unicode"),
    ],
)
def test_an_event_off_its_bounds_is_refused_with_the_reason(field, value, reason):
    fields = {"job": str(uuid.uuid4()), "type": messages.FAILED, "seq": 1, "at": 1.0}
    raw = messages.JobEvent(**{**fields, field: value}).encode()
    with pytest.raises(messages.MalformedMessage, match=reason):
        messages.JobEvent.decode(raw)
