"""The comparison's report: its tables in Markdown, stamped with when, where and how
it was measured, and written into the marked section of docs/benchmarks.md."""

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tools.bench.stats import markdown_table
from tools.loadgen.clients import FEED, JOB_SOCKETS
from tools.stamp import commit, load_average

BEGIN = "<!-- make bench: begin (written by python -m tools.bench compare) -->"
END = "<!-- make bench: end -->"
SOCKET_NAMES = {JOB_SOCKETS: "job sockets", FEED: "feeds"}  # the socket runs' kinds
VIEW_NAMES = {  # the views of the submission runs (tools.bench.site.submission_views)
    "ceiling": "trivial Django JSON view, 202 (the stack's ceiling)",
    "clapstream": "POST /api/claps/ (Kafka outbox)",
    "celery": "the same view with Celery's delay()",
}


def ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{1000 * seconds:,.0f} ms"


def pct(fraction: float) -> str:
    return f"{100 * fraction:.1f} %" if fraction < 0.1 else f"{100 * fraction:.0f} %"


@dataclass
class Report:
    command: str
    database: str
    began: datetime
    commit: str = field(default_factory=commit)
    load_before: str = field(default_factory=load_average)
    load_after: str = ""
    ended: datetime | None = None
    sections: list[str] = field(default_factory=list)
    targets: list[list[str]] = field(default_factory=list)

    def finish(self) -> None:
        self.ended = datetime.now(UTC)
        self.load_after = load_average()

    def target(self, what: str, figure: str, met: bool) -> None:
        self.targets.append([what, figure, "met" if met else "**missed**"])

    def pipeline(self, counts, recorders, bare, same, alone, pipe, celery) -> None:
        def rates(values) -> list[str]:
            return [f"{values[n]:,.0f}" for n in counts]

        def share(values, ceiling) -> str:
            return " / ".join(pct(values[n] / ceiling) for n in counts)

        def ratio(name, ours, theirs) -> list[str]:
            return [name, *[f"{ours[n] / theirs[n]:.1f} x" for n in counts], "", ""]

        blank = [""] * (len(counts) - 1)
        rows = [
            [
                "bare confluent-kafka loop (no work, 1 tiny event)",
                f"{bare:,.0f}",
                *blank,
                "100 %",
                "",
            ],
            [
                "the worker's work in a bare loop (3 events, WAV)",
                f"{same:,.0f}",
                *blank,
                pct(same / bare),
                "100 %",
            ],
            [
                "Clapstream workers alone (done event in Kafka)",
                *rates(alone),
                share(alone, bare),
                share(alone, same),
            ],
            [
                f"Clapstream pipeline, {recorders} recorder(s) (done in {self.database})",
                *rates(pipe),
                share(pipe, bare),
                share(pipe, same),
            ],
            [
                "Celery 5 on Redis (result in Redis)",
                *rates(celery),
                share(celery, bare),
                share(celery, same),
            ],
            ratio("Clapstream workers / Celery", alone, celery),
            ratio("Clapstream pipeline / Celery", pipe, celery),
            ratio("Clapstream pipeline / workers alone", pipe, alone),
        ]
        headers = ["system", *[f"jobs/s, {n} worker(s)" for n in counts]]
        self.sections.append(
            "Pipeline throughput, 1 clap, 0 ms work, from the first job sent to the last "
            "done:\n\n" + markdown_table([*headers, "of bare loop", "of same-work loop"], rows)
        )
        top = max(counts)
        self.target(
            f"pipeline ({recorders} recorders, {self.database}) >= 70 % of workers alone, "
            f"{top} workers",
            pct(pipe[top] / alone[top]),
            pipe[top] >= 0.7 * alone[top],
        )
        for n in counts:
            self.target(
                f"pipeline >= 2 x Celery, {n} worker(s)",
                f"{pipe[n] / celery[n]:.1f} x",
                pipe[n] >= 2 * celery[n],
            )

    def pipeline_cpu(self, counts: list[int], cpu: dict[int, dict[str, float]]) -> None:
        """Where a pipeline job's CPU went, and the rate that CPU allows on this machine."""
        self.sections.append(
            "CPU per job in those pipeline runs, ms, by part (PostgreSQL with its "
            "backends, the broker's JVM):\n\n"
            + _cpu_table({f"{n} worker(s)": cpu[n] for n in counts})
        )

    def peak_cpu(self, rate: float, cpu: dict[str, dict[str, float]]) -> None:
        """Where a job's CPU went in the runs at the spike's rate, end to end."""
        self.sections.append(
            f"CPU per job in the runs at {rate:g}/s above, ms, by part, over each whole "
            "run: the users signing in and opening their sockets, their submissions, and "
            "the jobs to their end (the web processes serve the submissions, the sockets "
            "and their relays):\n\n"
            + _cpu_table({f"over {SOCKET_NAMES[kind]}": used for kind, used in cpu.items()})
        )

    def web(self, processes: int, posts: dict, runs: dict) -> None:
        ceiling = posts["ceiling"][0]
        rows = [
            [VIEW_NAMES[k], f"{rate:,.0f}", pct(rate / ceiling), f"{cpu:.2f} ms"]
            for k, (rate, cpu) in posts.items()
        ]
        ours, theirs = posts["clapstream"][0], posts["celery"][0]
        rows.append(["Clapstream / Celery", f"{ours / theirs:.1f} x", "", ""])
        self.sections.append(
            f"Submissions: {processes} daphne process(es) on one port, 32 clients posting "
            "as fast as answered:\n\n"
            + markdown_table(["view", "POST/s", "of ceiling", "web CPU per POST"], rows)
        )
        self.target(
            "POST /api/claps/ >= 60 % of the ceiling", pct(ours / ceiling), ours >= 0.6 * ceiling
        )
        self.target(
            "POST /api/claps/ >= 2 x Celery's view", f"{ours / theirs:.1f} x", ours >= 2 * theirs
        )

        described = {
            JOB_SOCKETS: "Clapstream, `done` over the job's socket, opened on the POST's answer",
            FEED: "Clapstream, `done` over the user's feed, opened before submitting",
            "database": "Clapstream, done in the database (worker's time)",
            "celery": "Celery, done in the database",
        }
        rows = []
        for (kind, rate), s in runs.items():
            e2e = s["end_to_end_latency"]
            errors = ", ".join(f"{k} {v}" for k, v in s["errors"].items()) or "none"
            socket = kind in SOCKET_NAMES
            live = f"{s['seen_live']:,}" if socket else "-"
            snapshot = f"{s['final_at_snapshot']:,}" if socket else "-"
            seen = ms(s["final_seen_latency"]["p99"]) if socket else "-"
            rows.append(
                [
                    described[kind],
                    f"{rate:g}/s",
                    f"{s['done']:,} of {s['sent']:,}",
                    live,
                    snapshot,
                    errors,
                    ms(e2e["p50"]),
                    ms(e2e["p99"]),
                    seen,
                ]
            )
            if socket:
                self._socket_target(SOCKET_NAMES[kind], rate, s, errors)
        self.sections.append(
            "End to end, 1 worker, 0 ms work, from the POST sent to done; over a socket a "
            "job counts as seen live only when its `done` arrived as a live message "
            "(jobs already final in their own socket's snapshot are counted apart, with no "
            "latency; a feed has no snapshot); the last column is how long a user waited "
            "to see the job final on a socket, live or in the snapshot:\n\n"
            + markdown_table(
                [
                    "system",
                    "rate",
                    "done",
                    "seen live",
                    "final at snapshot",
                    "errors",
                    "p50",
                    "p99",
                    "p99 until seen final",
                ],
                rows,
            )
        )

    def _socket_target(self, sockets: str, rate: float, s: dict, errors: str) -> None:
        """At the steady rate every done must arrive live; at the spike's rate every
        socket must be served, and the p99 is of the wait until the job was seen final."""
        seen = s["seen_live"] + s["final_at_snapshot"]
        if rate <= 50:
            p99, limit = s["end_to_end_latency"]["p99"], 0.1
            name, count, wanted = "every done live", s["seen_live"], "live"
        else:
            p99, limit = s["final_seen_latency"]["p99"], 1.0
            name, count, wanted = "every job served to its final state", seen, "served"
        self.target(
            f"@{rate:g}/s over {sockets}: {name}, no error, p99 < {ms(limit)}",
            f"{count:,} of {s['sent']:,} {wanted}, errors {errors}, p99 {ms(p99)}",
            count == s["sent"] and not s["errors"] and p99 is not None and p99 < limit,
        )

    def markdown(self) -> str:
        stamp = (
            f"Measured {self.began:%Y-%m-%d %H:%M} to {self.ended:%H:%M} UTC at commit "
            f"{self.commit} on {os.cpu_count()} cores; load average (1/5/15 min) "
            f"{self.load_before} before, {self.load_after} after; database "
            f"{self.database}.\nCommand: `{self.command}`"
        )
        targets = "Against the targets:\n\n" + markdown_table(
            ["target", "figure", ""], self.targets
        )
        return "\n\n".join([stamp, *self.sections, targets])

    def write_into(self, doc: Path) -> None:
        text = doc.read_text()
        if BEGIN not in text or END not in text:
            raise SystemExit(f"error: {doc} has no section marked {BEGIN} ... {END}")
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        doc.write_text(f"{head}{BEGIN}\n{self.markdown()}\n{END}{tail}")


PARTS = {
    "publisher": "the bench process (publishes the jobs, polls for done)",
    "clients": "the bench process (the simulated users)",
    "web": "web processes",
}


def _cpu_table(columns: dict[str, dict[str, float]]) -> str:
    """CPU ms per job by part, one column per run, with the rate that CPU allows."""
    first = next(iter(columns.values()))
    rows = [
        [PARTS.get(part, part), *[f"{c[part]:.3f}" for c in columns.values()]] for part in first
    ]
    totals = [sum(c.values()) for c in columns.values()]
    rows.append(["total", *[f"{t:.3f}" for t in totals]])
    cores = os.cpu_count() or 1
    rows.append(
        [
            f"jobs/s that CPU allows on {cores} cores (cores / total)",
            *[f"{1000 * cores / t:,.0f}" for t in totals],
        ]
    )
    return markdown_table(["part", *columns], rows)
