"""The web side of the comparison: the site's daphne processes (tools.web) with the
benchmark's settings on private topics, submissions as fast as they are answered,
and paced end-to-end latency."""

import asyncio
import io
import itertools
import os
import sys
import time

from streams.config import KafkaConfig
from tools.bench.pipeline import BENCH_SETTINGS
from tools.bench.proc import cpu_seconds, workers_and_recorders_cpu
from tools.loadgen.clients import SUBMIT_PATH, Site
from tools.loadgen.profiles import constant
from tools.loadgen.readiness import wait_ready
from tools.loadgen.runner import LoadPlan, generate
from tools.loadgen.summary import Request, summarise
from tools.ports import free_port
from tools.processes import ProcessGroup
from tools.sandbox import drop_private_kafka, private_kafka, process_env, undone_on_failure
from tools.web import start_web

BODY = {"claps": 1, "note": "bench"}
UNLIMITED = "100000000/min"


def submission_views() -> tuple[tuple[str, str], ...]:
    """(name, path) of the views whose submissions are compared, ceiling first."""
    from tools.bench.urls import CEILING_PATH, CELERY_SUBMIT_PATH

    return (("ceiling", CEILING_PATH), ("clapstream", SUBMIT_PATH), ("celery", CELERY_SUBMIT_PATH))


class BenchSite:
    def __init__(self, base: KafkaConfig, redis_url: str, web_processes: int):
        self.kafka = private_kafka(base, prefix="bench")
        self.env = {
            **process_env(self.kafka),
            **BENCH_SETTINGS,
            "BENCH_REDIS_URL": redis_url,
            # Admission out of the way: every simulated user is on the loopback address.
            "CLAP_SUBMIT_RATE": UNLIMITED,
            "CLAP_ADDRESS_RATE": UNLIMITED,
            "CLAP_ADMISSION_RATE": UNLIMITED,
            "CLAP_WORK_MS": "0",
        }
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.web_processes = web_processes
        self.log = io.StringIO()
        self.group = ProcessGroup(self.log)

    def __enter__(self):
        with undone_on_failure(self):
            self.web = start_web(self.group, self.port, self.web_processes, self.env)
            for child in self.web:
                wait_ready(self.url, child, 120)
        return self

    def __exit__(self, kind, *exc):
        self.group.stop_all(timeout=30)
        drop_private_kafka(self.kafka)
        if kind is not None:
            print(f"the site's log, last lines:\n{self.log.getvalue()[-6000:]}", flush=True)

    def web_cpu_seconds(self) -> float:
        return sum(cpu_seconds(child.proc.pid) for child in self.web)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds used so far by the web processes, the workers, the recorder and
        this process (the simulated users)."""
        return {
            "web": self.web_cpu_seconds(),
            **workers_and_recorders_cpu(self.group),
            "clients": sum(os.times()[:2]),
        }

    def start_clapstream(self, workers: int = 1) -> list[str]:
        """The recorder and `workers` workers; returns their names, to stop them."""
        self.group.start("recorder", [sys.executable, "manage.py", "record_events"], self.env)
        names = ["recorder"]
        for n in range(1, workers + 1):
            names.append(f"worker-{n}")
            self.group.start(
                names[-1], [sys.executable, "-m", "worker"], {**self.env, "WORKER_ID": names[-1]}
            )
        return names

    def submissions(self, path: str, total: int, users: int = 32) -> tuple[float, float]:
        """(accepted submissions per second, web CPU ms per submission), `users`
        clients each posting as soon as its previous post was answered."""
        cpu_before = self.web_cpu_seconds()
        requests = asyncio.run(self._submit_flat_out(path, total, users))
        cpu = self.web_cpu_seconds() - cpu_before
        accepted = summarise(requests)
        if accepted["accepted"] != total:
            raise RuntimeError(f"{path}: only {accepted['accepted']} of {total} accepted")
        return accepted["accepted_per_second"], 1000 * cpu / total

    async def _submit_flat_out(self, path: str, total: int, users: int) -> list[Request]:
        requests: list[Request] = []
        tickets = itertools.count()
        async with Site(self.url, users, connections=users) as site:

            async def user_loop(user):
                while next(tickets) < total:
                    requests.append(Request(sent_at=time.time()))
                    await user.submit(requests[-1], BODY, path)

            await asyncio.gather(*(user_loop(u) for u in site.users))
        return requests

    def latency(
        self, path: str, rate: float, seconds: float, sockets: str = "", users: int = 50
    ) -> dict:
        """The summary of a steady load (end-to-end latency percentiles in seconds);
        `sockets` as in LoadPlan."""
        plan = LoadPlan(self.url, constant(rate, seconds), users=users, sockets=sockets, path=path)
        return summarise(generate(plan).requests)
