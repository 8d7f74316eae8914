"""A done event's applause crosses Kafka deflated; decoding refuses what does not
inflate into a bounded WAV, and still reads events that carry it whole."""

import base64
import json
import zlib

import pytest

from streams import messages
from worker.applause import synthesize

JOB = "0b6d3c2e-8a4f-4d0e-9b8a-2f1e5c7d9a10"


def _done(**fields) -> bytes:
    return json.dumps({"v": 1, "job": JOB, "type": "done", "seq": 5, "at": 1.0, **fields}).encode()


def test_the_applause_crosses_deflated_and_inflates_whole():
    wav = synthesize(1, JOB)
    deflated = messages.deflate(wav)
    event = messages.JobEvent(job=JOB, type=messages.DONE, seq=5, at=1.0, result_deflated=deflated)
    raw = event.encode()
    assert json.loads(raw)["result_encoding"] == messages.RESULT_ENCODING
    assert len(raw) < len(wav) / 4  # base64 of the WAV whole would be 4/3 of it
    assert messages.JobEvent.decode(raw).result_deflated == deflated
    assert messages.inflate(deflated) == wav


def test_an_event_with_the_wav_whole_still_decodes():
    wav = synthesize(1, JOB)
    raw = _done(result=base64.b64encode(wav).decode())
    assert messages.inflate(messages.JobEvent.decode(raw).result_deflated) == wav


@pytest.mark.parametrize(
    ("result", "encoding", "reason"),
    [
        (zlib.compress(b"RIFF"), "gzip", "unknown result_encoding 'gzip'"),
        (b"RIFF, not deflated", messages.RESULT_ENCODING, "does not inflate"),
        (zlib.compress(b"RIFF" * 1000)[:-8], messages.RESULT_ENCODING, "cut short"),
        (zlib.compress(bytes(messages.MAX_RESULT + 1)), messages.RESULT_ENCODING, "beyond"),
    ],
    ids=["unknown encoding", "not deflate", "truncated", "inflates too far"],
)
def test_a_result_that_does_not_inflate_into_a_bounded_wav_is_malformed(result, encoding, reason):
    raw = _done(result=base64.b64encode(result).decode(), result_encoding=encoding)
    with pytest.raises(messages.MalformedMessage, match=reason):
        messages.JobEvent.decode(raw)
    # The relay never reads the result, so it never refuses the event for it.
    assert messages.JobEvent.decode(raw, with_result=False).type == messages.DONE
