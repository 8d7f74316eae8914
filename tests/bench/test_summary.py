"""Percentiles, summaries and timelines of a load run."""

import math
from dataclasses import asdict

import pytest

from tools.bench.stats import percentile
from tools.loadgen.summary import Request, describe, drain_of, per_second, summarise


@pytest.mark.parametrize(
    ("values", "pct", "want"),
    [
        ([5.0], 99, 5.0),
        ([1, 2, 3, 4], 50, 2),
        ([1, 2, 3, 4], 75, 3),
        ([1, 2, 3, 4], 100, 4),
        (list(range(1, 101)), 99, 99),
        (list(range(100, 0, -1)), 90, 90),  # order does not matter
        ([1, 2, 3], 0, 1),
    ],
)
def test_nearest_rank_percentile(values, pct, want):
    assert percentile(values, pct) == want


def done(sent, answered, finished, job="j"):
    return Request(sent, answered, 202, job_id=job, done_at=finished, outcome="done")


RUN = [
    done(100.0, 100.01, 100.1, "a"),
    done(100.5, 100.52, 100.8, "b"),
    done(101.0, 101.03, 102.0, "c"),
    Request(101.2, 101.21, 429, error="http 429"),
    Request(101.4, None, None, error="timeout"),
    Request(101.6, None, None, error="connection"),
    Request(101.8, 101.82, 202, job_id="d"),  # never finished
    Request(101.9, 101.95, 202, job_id="e", done_at=102.5, outcome="failed"),
]


def test_summary_counts_errors_by_kind_and_outcomes():
    s = summarise(RUN)
    assert s["sent"] == 8
    assert s["accepted"] == 5
    assert s["accepted_per_second"] == pytest.approx(5 / 1.95)  # first send to last answer
    assert s["errors"] == {"http 429": 1, "timeout": 1, "connection": 1}
    assert s["outcomes"] == {"done": 3, "failed": 1, "unfinished": 1}
    assert s["unfinished"] == 1
    assert s["drained_after"] == pytest.approx(2.5)


def test_latency_percentiles_only_over_done_jobs():
    e2e = summarise(RUN)["end_to_end_latency"]
    assert e2e["p50"] == pytest.approx(0.3)
    assert e2e["p99"] == pytest.approx(1.0)
    assert e2e["max"] == pytest.approx(1.0)
    assert summarise(RUN)["submit_latency"]["max"] == pytest.approx(0.05)


def test_socket_errors_count_too():
    request = Request(1.0, 1.1, 202, job_id="x", follow_error="socket closed 4429")
    assert summarise([request])["errors"] == {"socket closed 4429": 1}


def test_per_second_buckets():
    seconds = per_second(RUN, began=100.0)
    assert seconds["second"] == [0, 1, 2]
    assert seconds["sent"] == [2, 6, 0]
    assert seconds["accepted"] == [2, 3, 0]
    assert seconds["done"] == [2, 0, 1]  # by done time; failed jobs are not done
    assert seconds["latency_p50"][0] == pytest.approx(0.1)
    assert seconds["latency_p99"][0] == pytest.approx(0.3)
    assert math.isnan(seconds["latency_p50"][2])


def test_drain_of_a_window():
    saved = [asdict(r) for r in RUN]
    window = drain_of(saved, start=0.4, end=1.1)  # b and c
    assert window == {"jobs": 2, "done": 2, "drained_after": pytest.approx(1.5)}
    assert drain_of(saved, start=1.5, end=2.0)["drained_after"] is None  # d never finished


def test_describe_and_empty_runs():
    text = describe(summarise(RUN))
    assert "accepted 5" in text
    assert "http 429: 1" in text
    assert "p99 1,000 ms" in text
    assert describe(summarise([])) == "nothing was sent"


def test_over_sockets_only_live_finals_count_as_seen_and_timed():
    from tools.loadgen.clients import _final

    live, late = Request(10.0, 10.01, 202, job_id="a"), Request(10.0, 10.01, 202, job_id="b")
    assert _final({"type": "done", "status": "done", "seq": 9}, live)
    snapshot = {
        "type": "snapshot",
        "status": "done",
        "seq": 9,
        "finished_at": "2026-01-01T00:00:00Z",
    }
    assert _final(snapshot, late)
    s = summarise([live, late])
    assert (s["seen_live"], s["final_at_snapshot"], s["done"]) == (1, 1, 2)
    assert late.done_at is None  # no latency from the worker's clock
    assert live.final_seen_at == live.done_at and late.final_seen_at > 10.01
    assert s["final_seen_latency"]["max"] == pytest.approx(late.final_seen_at - 10.0)
    assert s["end_to_end_latency"]["p99"] == pytest.approx(live.done_at - 10.0)
    assert "1 final message(s) arrived live, 1 job(s) already final" in describe(s)
