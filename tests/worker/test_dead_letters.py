import uuid

import pytest

from streams.messages import (
    DLQ_ATTEMPTS,
    DLQ_ERROR,
    DLQ_FAILED_AT,
    DLQ_LEFT_OUT,
    DLQ_OFFSET,
    DLQ_PARTITION,
    DLQ_TOPIC,
    FAILED,
    MAX_REASON,
    PROGRESS,
    RUNNING,
)
from tests.support.workers import driving, job, produce
from tools.waiting import wait_until

pytestmark = pytest.mark.kafka


def _headers(msg) -> dict[str, str]:
    return {k: v.decode() for k, v in msg.headers()}


def test_malformed_messages_are_dead_lettered_and_the_worker_carries_on(
    config, outputs, start_worker
):
    worker = start_worker()
    typed = str(uuid.uuid4())
    bad = [
        (b"k1", b"not json at all"),
        (typed, f'{{"v":1,"id":"{typed}","claps":"many"}}'.encode()),
        (b"k3", b'{"v":99,"id":"x","claps":1}'),
        (b"k4", None),
        (b"\xff\xfe", b"\xff\xfe\x00", [("weird", b"\x00\xff"), ("empty", None)]),
    ]
    good = job(claps=1)
    produce(config, *bad, good, partition=0)  # the good job queues behind every bad one

    wait_until(
        lambda: len(outputs.dead_letters) == len(bad) and outputs.final(good.id),
        20,
        "dead letters and the good job",
        tick=driving(worker, outputs),
    )

    reasons, offsets = {}, []
    for msg in outputs.dead_letters:
        headers = _headers(msg)
        assert headers[DLQ_ATTEMPTS] == "0"
        assert (headers[DLQ_TOPIC], headers[DLQ_PARTITION]) == (config.topics.jobs, "0")
        offsets.append(int(headers[DLQ_OFFSET]))
        assert headers[DLQ_FAILED_AT]
        reasons[msg.key()] = (headers[DLQ_ERROR], msg.value())
    assert reasons[b"k1"] == ("not JSON", b"not json at all")
    assert reasons[typed.encode()][0] == "field 'claps' must be an integer"
    assert reasons[b"k3"][0] == "unknown schema version 99"
    assert reasons[b"k4"] == ("empty message (no value)", None)
    assert reasons[b"\xff\xfe"][0] == "not UTF-8"
    assert sorted(offsets) == list(range(len(bad)))  # each letter names its own message
    # A malformed message whose key is a job id fails that job visibly too.
    assert outputs.final(typed).type == FAILED
    assert outputs.final(good.id).type == "done"
    assert worker.exit_code == 0


def test_a_clap_that_keeps_failing_is_retried_then_dead_lettered(config, outputs, start_worker):
    worker = start_worker(max_attempts=3, retry_backoff_ms=20)
    doomed = job(claps=3, fail_at_clap=2)
    produce(config, doomed)

    wait_until(
        lambda: outputs.final(doomed.id) and outputs.dead_letters,
        20,
        "the failure and its dead letter",
        tick=driving(worker, outputs),
    )

    assert outputs.types(doomed.id) == [RUNNING, PROGRESS, FAILED]
    failed = outputs.final(doomed.id)
    assert failed.done == 1
    assert "clap 2 of 3 failed 3 times" in failed.error
    assert "injected failure at clap 2" in failed.error
    [letter] = outputs.dead_letters
    headers = _headers(letter)
    assert headers[DLQ_ATTEMPTS] == "3"
    assert headers[DLQ_ERROR] == failed.error
    assert (letter.key(), letter.value()) == (doomed.id.encode(), doomed.encode())


def test_a_message_too_large_to_copy_is_dead_lettered_as_its_headers_alone(
    config, outputs, start_worker
):
    worker = start_worker()
    huge = b"x" * 999_900  # a record of its own, but not with the dead-letter headers
    good = job(claps=1)
    produce(config, (b"big", huge), good, partition=0)

    wait_until(
        lambda: outputs.dead_letters and outputs.final(good.id),
        30,
        "the dead letter and the good job",
        tick=driving(worker, outputs),
    )
    (letter,) = outputs.dead_letters
    headers = _headers(letter)
    assert (letter.key(), letter.value()) == (None, None)
    assert headers[DLQ_ERROR] == "not JSON"
    assert headers[DLQ_LEFT_OUT] == "key (3 bytes) and value (999900 bytes): too large to copy"


def test_a_reason_quoting_a_huge_message_is_cut_so_its_dead_letter_and_failure_go_out(
    config, outputs, start_worker
):
    """The reason quotes the bad value; uncut, a reason of a megabyte made the dead
    letter's headers or the job's failed event too large to send, and the worker
    stopped on the message at every start."""
    worker = start_worker()
    typed = str(uuid.uuid4())
    version_list = b'{"v":[' + b",".join([b"0"] * 350_000) + b"]}"
    version_text = f'{{"v":"{"é" * 400_000}","id":"{typed}","claps":1}}'.encode()
    good = job(claps=1)
    produce(config, (b"list", version_list), (typed, version_text), good, partition=0)

    wait_until(
        lambda: len(outputs.dead_letters) == 2 and outputs.final(good.id),
        30,
        "the dead letters and the good job",
        tick=driving(worker, outputs),
    )
    reasons = [_headers(letter)[DLQ_ERROR] for letter in outputs.dead_letters]
    assert all(r.startswith("unknown schema version") for r in reasons)
    assert all(len(r) == MAX_REASON and r.endswith("…") for r in reasons)
    failed = outputs.final(typed)
    assert failed.type == FAILED and failed.error.startswith("malformed message: unknown")
    assert worker.exit_code == 0
