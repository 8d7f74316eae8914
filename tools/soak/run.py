"""One soak from start to finish: bring the stack up, load it while the faults run,
drain, and read the figures."""

import dataclasses
import logging
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dj_database_url
from confluent_kafka import KafkaException
from django.db import DEFAULT_DB_ALIAS, connections

from streams.lag import OffsetReader
from tools.soak.faults import FaultRunner, schedule
from tools.soak.load import Submitter, create_owners, inject_poison
from tools.soak.report import SoakReport, outcome
from tools.soak.stack import SoakStack
from tools.soak.watch import Watch, unread
from webapp.claps.models import FINAL_STATUSES, ClapJob


@dataclass(frozen=True)
class Plan:
    jobs: int = 10_000
    seconds: float = 240.0  # of load
    workers: int = 4
    work_ms: tuple[int, ...] = (5, 10, 15, 20)  # per clap, worker by worker
    owners: int = 200
    threads: int = 8
    kill_every: float = 20.0
    db_outage: float = 30.0
    poison: int = 20
    drain_timeout: float = 600.0
    seed: int = 1


SHORT = Plan(jobs=500, seconds=45.0, workers=2, owners=25, threads=4, poison=8, drain_timeout=150.0)


@contextmanager
def database(url: str, alias: str = "soak"):
    """The soak's database as an extra connection alias of this process."""
    parsed = dj_database_url.parse(url)
    connections.settings[alias] = connections.configure_settings(
        {DEFAULT_DB_ALIAS: {}, alias: parsed}
    )[alias]
    try:
        yield alias
    finally:
        connections[alias].close()
        del connections.settings[alias]


@contextmanager
def logging_to(stream):
    """This process's own logs (faults, Kafka clients failing during the broker
    restart) go to the soak's log with the processes' output, not to the terminal."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("soak | %(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    saved, root.handlers = root.handlers, [handler]
    try:
        yield
    finally:
        root.handlers = saved


def run(plan: Plan, say=print, keep: bool = False) -> SoakReport:
    root = Path(tempfile.mkdtemp(prefix="clapstream-soak-"))
    root.chmod(0o711)  # the cluster's OS user must get through to its directory
    log = open(root / "soak.log", "w")  # noqa: SIM115 - closed below, after the stack
    stack = SoakStack(root, workers=plan.workers, work_ms=list(plan.work_ms), log=log)
    report = None
    try:
        with logging_to(log):
            try:
                began = time.monotonic()
                stack.start()
                up = time.monotonic() - began
                say(f"stack up in {up:.0f} s, {plan.workers} workers; logs in {log.name}")
                with database(stack.postgres.url()) as db:
                    report = _load_and_measure(plan, stack, db, say)
                report.seconds = {"start-up": up, **report.seconds}
                return report
            finally:
                stack.stop()
    finally:
        log.close()
        if keep or report is None or not report.ok:
            say(f"kept the soak's files in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


def _load_and_measure(plan: Plan, stack: SoakStack, db: str, say) -> SoakReport:
    load_before = os.getloadavg()[0]
    submitter = Submitter(
        stack.web_port,
        create_owners(plan.owners, db),
        jobs=plan.jobs,
        seconds=plan.seconds,
        seed=plan.seed,
    )
    faults = FaultRunner(
        stack, schedule(plan.seconds, plan.kill_every), db_outage=plan.db_outage, seed=plan.seed
    )
    watch = Watch(stack.kafka)
    watch.start()
    began = time.monotonic()
    faults.start()
    inject_poison(stack.kafka, plan.poison)
    say(f"submitting {plan.jobs} jobs over {plan.seconds:.0f} s with {len(faults.faults)} faults")
    submitter.run(plan.threads)
    faults.join()
    loaded = time.monotonic()
    say(f"load done in {loaded - began:.0f} s ({len(submitter.accepted)} accepted); draining")
    reader = OffsetReader(stack.kafka)
    try:
        drained = _drain(db, reader, stack, plan.drain_timeout)
        watch.stop()
        result = outcome(db, submitter.accepted, reader)
    finally:
        reader.close()
    return SoakReport(
        plan=dataclasses.asdict(plan),
        outcome=result,
        answers=dict(submitter.answers),
        faults=[dataclasses.asdict(r) for r in sorted(faults.records, key=lambda r: r.at)],
        fault_errors=faults.errors,
        processes={
            "unplanned exits": dict(stack.crashes),
            "liveness kills": dict(stack.liveness_kills),
            "hung on SIGTERM": dict(stack.hung_on_sigterm),
        },
        peak_lag=watch.peak_lag,
        peak_lag_at=watch.peak_lag_at,
        seconds={"load": loaded - began, "drain": drained},
        machine={
            "cpus": os.cpu_count() or 0,
            "load1 before": round(load_before, 2),
            "load1 peak": round(watch.peak_load, 2),
        },
    )


def _drain(db: str, reader: OffsetReader, stack: SoakStack, timeout: float) -> float:
    """Wait until every job is final and both groups have read everything; seconds."""
    began = time.monotonic()
    kafka = stack.kafka
    while time.monotonic() - began < timeout:
        if not ClapJob.objects.using(db).exclude(status__in=FINAL_STATUSES).exists():
            try:
                idle = not unread(reader, kafka.worker_group, kafka.topics.jobs) and not unread(
                    reader, kafka.recorder_group, kafka.topics.events
                )
            except KafkaException:
                idle = False
            if idle:
                break
        time.sleep(1.0)
    return time.monotonic() - began
