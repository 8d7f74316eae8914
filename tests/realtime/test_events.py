"""The socket's messages: typed, numbered, and never the applause's bytes."""

import uuid

from django.urls import reverse

from streams import messages
from webapp.realtime.events import is_final, message_of

JOB = str(uuid.uuid4())


def test_every_event_becomes_a_typed_numbered_message():
    kinds = {
        messages.RUNNING: "status",
        messages.PROGRESS: "progress",
        messages.DONE: "done",
        messages.FAILED: "failed",
        messages.CANCELLED: "cancelled",
    }
    for n, (kind, expected) in enumerate(kinds.items()):
        message = message_of(messages.JobEvent(job=JOB, type=kind, seq=5000 + n, at=1.5))
        assert (message["type"], message["seq"], message["id"]) == (expected, 5000 + n, JOB)
        assert message["status"] == (messages.RUNNING if kind == messages.PROGRESS else kind)
        assert is_final(message) == (kind in messages.FINAL_TYPES)


def test_done_carries_the_result_url_not_the_audio():
    event = messages.JobEvent(
        job=JOB,
        type=messages.DONE,
        seq=7,
        at=1.0,
        done=4,
        total=4,
        result_deflated=messages.deflate(b"RIFF" * 1000),
    )
    message = message_of(event)
    assert message["result_url"] == reverse("clap-applause", kwargs={"pk": JOB})
    assert message["progress"] == {"done": 4, "total": 4}
    assert "result" not in message
    assert len(str(message)) < 500


def test_running_says_who_and_where():
    event = messages.JobEvent(
        job=JOB, type=messages.RUNNING, seq=9, at=1.0, worker="worker-2", partition=7, offset=13
    )
    message = message_of(event)
    assert (message["worker"], message["partition"], message["offset"]) == ("worker-2", 7, 13)
