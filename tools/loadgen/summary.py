"""What a load run measured: each request's fate, and the figures made from them."""

import math
from collections import Counter
from dataclasses import dataclass

from tools.bench.stats import percentile

PERCENTILES = (50, 90, 99)


@dataclass
class Request:
    """One submission. Times are wall-clock seconds (time.time())."""

    sent_at: float
    answered_at: float | None = None
    status: int | None = None  # the HTTP status, when there was a response
    error: str | None = None  # kind of failure: "http 429", "timeout", "connection", ...
    job_id: str | None = None  # when accepted
    done_at: float | None = None  # when the job was seen final
    outcome: str | None = None  # its final status: done, failed, cancelled
    follow_error: str | None = None  # why its socket gave no final message
    # Followed over a socket: its final message arrived live (True), or the job was
    # already final in the snapshot (False: no done_at, so no latency).
    live: bool | None = None
    final_seen_at: float | None = None  # when its socket showed it final, live or not

    @property
    def accepted(self) -> bool:
        return self.job_id is not None

    @property
    def latency(self) -> float | None:
        """Submission to done, end to end."""
        if self.outcome != "done" or self.done_at is None:
            return None
        return self.done_at - self.sent_at


def percentiles(values: list[float]) -> dict[str, float | None]:
    return {f"p{p}": percentile(values, p) if values else None for p in PERCENTILES} | {
        "max": max(values) if values else None
    }


def summarise(requests: list[Request]) -> dict:
    if not requests:
        return {"sent": 0}
    began = min(r.sent_at for r in requests)
    accepted = [r for r in requests if r.accepted]
    answered = [r.answered_at for r in requests if r.answered_at is not None]
    sending = (max(answered) if answered else began) - began
    done = [r for r in accepted if r.outcome == "done"]
    finished = [r.done_at for r in accepted if r.done_at is not None]
    return {
        "sent": len(requests),
        "accepted": len(accepted),
        "accepted_per_second": len(accepted) / sending if sending > 0 else None,
        "errors": dict(Counter(e for r in requests for e in (r.error, r.follow_error) if e)),
        "done": len(done),
        "outcomes": dict(Counter(r.outcome or "unfinished" for r in accepted)),
        "unfinished": sum(1 for r in accepted if r.outcome is None),
        "drained_after": (max(finished) - began) if finished else None,
        "seen_live": sum(1 for r in accepted if r.live),
        "final_at_snapshot": sum(1 for r in accepted if r.live is False),
        "submit_latency": percentiles(
            [r.answered_at - r.sent_at for r in accepted if r.answered_at is not None]
        ),
        "end_to_end_latency": percentiles([r.latency for r in done if r.latency is not None]),
        # Over sockets: how long each user waited to see the job final, either way.
        "final_seen_latency": percentiles(
            [r.final_seen_at - r.sent_at for r in accepted if r.final_seen_at is not None]
        ),
    }


def per_second(requests: list[Request], began: float) -> dict[str, list]:
    """Counts and end-to-end latency percentiles by whole second since `began`:
    sent and accepted by send time, done by done time, latency by send time."""
    seconds = 1 + max(
        [int(r.sent_at - began) for r in requests]
        + [int(r.done_at - began) for r in requests if r.done_at is not None]
        + [0]
    )
    sent, accepted, done = [0] * seconds, [0] * seconds, [0] * seconds
    latencies: list[list[float]] = [[] for _ in range(seconds)]
    for r in requests:
        second = int(r.sent_at - began)
        sent[second] += 1
        accepted[second] += r.accepted
        if r.outcome == "done" and r.done_at is not None:
            done[int(r.done_at - began)] += 1
            latencies[second].append(r.latency)
    return {
        "second": list(range(seconds)),
        "sent": sent,
        "accepted": accepted,
        "done": done,
        "latency_p50": [percentile(v, 50) if v else math.nan for v in latencies],
        "latency_p99": [percentile(v, 99) if v else math.nan for v in latencies],
    }


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{1000 * value:,.0f} ms"


def describe(summary: dict) -> str:
    """The summary in a few lines for a terminal."""
    if not summary["sent"]:
        return "nothing was sent"
    rate = summary["accepted_per_second"]
    errors = ", ".join(f"{k}: {v}" for k, v in sorted(summary["errors"].items())) or "none"
    e2e, submit = summary["end_to_end_latency"], summary["submit_latency"]
    drained = summary["drained_after"]
    lines = [
        f"sent {summary['sent']}, accepted {summary['accepted']}"
        + (f" ({rate:,.1f}/s)" if rate else ""),
        f"errors: {errors}",
        f"jobs: {', '.join(f'{k} {v}' for k, v in sorted(summary['outcomes'].items()))}",
        _socket_line(summary),
        "end to end: " + ", ".join(f"{k} {_ms(v)}" for k, v in e2e.items()),
        "submission: " + ", ".join(f"{k} {_ms(v)}" for k, v in submit.items()),
        f"last job done {drained:,.1f} s after the first was sent" if drained else "",
    ]
    return "\n".join(line for line in lines if line)


def _socket_line(summary: dict) -> str:
    if not summary["seen_live"] and not summary["final_at_snapshot"]:
        return ""  # outcomes read from the database
    seen = summary["final_seen_latency"]
    return (
        f"sockets: {summary['seen_live']} final message(s) arrived live, "
        f"{summary['final_at_snapshot']} job(s) already final in the snapshot; "
        "until seen final: " + ", ".join(f"{k} {_ms(v)}" for k, v in seen.items())
    )


def drain_of(requests: list[dict], start: float, end: float) -> dict:
    """How the jobs sent between `start` and `end` seconds into the run drained: from
    the first of them sent to the last of them done (requests as saved in JSON)."""
    began = min(r["sent_at"] for r in requests)
    inside = [r for r in requests if start <= r["sent_at"] - began < end and r["job_id"]]
    done = [r["done_at"] for r in inside if r["outcome"] == "done"]
    first = min((r["sent_at"] for r in inside), default=None)
    return {
        "jobs": len(inside),
        "done": len(done),
        "drained_after": max(done) - first if done and len(done) == len(inside) else None,
    }
