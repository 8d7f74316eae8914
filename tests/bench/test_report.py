"""The comparison's socket targets, judged from load-run summaries, and the stamp
beside every figure."""

import os
import subprocess
from datetime import UTC, datetime

from tools.bench.report import Report
from tools.loadgen.clients import FEED, JOB_SOCKETS
from tools.loadgen.summary import Request, summarise
from tools.stamp import stamp

POSTS = {"ceiling": (600.0, 2.0), "clapstream": (300.0, 4.0), "celery": (100.0, 9.0)}


def _followed(live: int, at_snapshot: int, wait: float) -> dict:
    """A socket run's summary: `live` done events live, the rest final at snapshot,
    each seen `wait` seconds after its POST."""
    requests = []
    for n in range(live + at_snapshot):
        r = Request(sent_at=100.0, answered_at=100.01, status=202, job_id=str(n))
        r.outcome, r.final_seen_at = "done", 100.0 + wait
        if n < live:
            r.done_at, r.live = r.final_seen_at, True
        else:
            r.live = False
        requests.append(r)
    return summarise(requests)


def _targets(runs: dict) -> dict[str, str]:
    report = Report(command="test", database="SQLite", began=datetime.now(UTC))
    report.web(2, POSTS, runs)
    return {what: verdict for what, _, verdict in report.targets if what.startswith("@")}


def test_at_the_steady_rate_every_done_must_arrive_live():
    verdicts = _targets({(JOB_SOCKETS, 50.0): _followed(live=99, at_snapshot=1, wait=0.05)})
    assert verdicts == {
        "@50/s over job sockets: every done live, no error, p99 < 100 ms": "**missed**"
    }
    verdicts = _targets({(FEED, 50.0): _followed(live=100, at_snapshot=0, wait=0.05)})
    assert verdicts == {"@50/s over feeds: every done live, no error, p99 < 100 ms": "met"}
    verdicts = _targets({(FEED, 50.0): _followed(live=100, at_snapshot=0, wait=0.15)})
    assert set(verdicts.values()) == {"**missed**"}


def test_at_the_spike_rate_every_job_served_and_the_wait_counts_snapshots_too():
    quick = _followed(live=10, at_snapshot=90, wait=0.5)
    all_live = _followed(live=100, at_snapshot=0, wait=0.5)
    slow_snapshots = _followed(live=0, at_snapshot=100, wait=3.0)
    name = "@200/s over job sockets: every job served to its final state, no error, p99 < 1,000 ms"
    assert _targets({(JOB_SOCKETS, 200.0): quick}) == {name: "met"}
    assert _targets({(JOB_SOCKETS, 200.0): all_live}) == {name: "met"}
    assert _targets({(JOB_SOCKETS, 200.0): slow_snapshots}) == {name: "**missed**"}


def test_a_stamp_names_the_commit_and_the_load():
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    line = stamp("began")
    assert line.startswith(f"began {datetime.now(UTC):%Y-%m-%d}")
    assert f"at commit {head.stdout.strip()}" in line
    assert "load average (1/5/15 min) " in line


def test_the_cpu_at_the_spike_rate_is_shown_by_part_with_the_rate_it_allows():
    report = Report(command="test", database="SQLite", began=datetime.now(UTC))
    used = {"web": 6.0, "workers": 0.5, "recorders": 1.0, "clients": 1.0, "PostgreSQL": 1.5}
    report.peak_cpu(200.0, {FEED: used, JOB_SOCKETS: {**used, "web": 8.0}})
    [section] = report.sections
    assert section.startswith("CPU per job in the runs at 200/s above")
    lines = section.splitlines()
    assert "| part | over feeds | over job sockets |" in lines
    assert "| web processes | 6.000 | 8.000 |" in lines
    assert "| the bench process (the simulated users) | 1.000 | 1.000 |" in lines
    assert "| total | 10.000 | 12.000 |" in lines
    cores = os.cpu_count()
    allowed = f"| jobs/s that CPU allows on {cores} cores (cores / total) "
    assert f"{allowed}| {100 * cores:,} | {1000 * cores / 12:,.0f} |" in lines
