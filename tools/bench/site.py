"""The web side of the comparison: daphne with the benchmark's settings on private
topics, submissions as fast as they are answered, and paced end-to-end latency."""

import asyncio
import io
import itertools
import sys
import time

from streams.config import KafkaConfig
from tools.loadgen.clients import Site
from tools.loadgen.profiles import constant
from tools.loadgen.readiness import wait_ready
from tools.loadgen.runner import LoadPlan, generate
from tools.loadgen.summary import Request, summarise
from tools.ports import free_port
from tools.processes import ProcessGroup
from tools.sandbox import private_kafka, process_env

BODY = {"claps": 1, "note": "bench"}
ASGI_APP = "webapp.asgi:application"


class BenchSite:
    def __init__(self, base: KafkaConfig, redis_url: str):
        self.kafka = private_kafka(base, prefix="bench")
        self.env = {
            **process_env(self.kafka),
            "BENCH_REDIS_URL": redis_url,
            "CLAP_SUBMIT_RATE": "1000000/min",
            "CLAP_WORK_MS": "0",
        }
        self.url = f"http://127.0.0.1:{free_port()}"
        self.group = ProcessGroup(io.StringIO())

    def __enter__(self):
        port = self.url.rsplit(":", 1)[1]
        web = self.group.start(
            "web",
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                port,
                "webapp.asgi:application",
            ],
            {**self.env, "DJANGO_SETTINGS_MODULE": "tools.bench.settings"},
        )
        wait_ready(self.url, web, 120)
        return self

    def __exit__(self, *exc):
        self.group.stop_all(timeout=30)

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

    def submissions(self, path: str, total: int, users: int = 32) -> float:
        """Accepted submissions per second, `users` clients each posting as soon as its
        previous post was answered."""
        requests = asyncio.run(self._submit_flat_out(path, total, users))
        accepted = summarise(requests)
        if accepted["accepted"] != total:
            raise RuntimeError(f"{path}: only {accepted['accepted']} of {total} accepted")
        return accepted["accepted_per_second"]

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

    def latency(self, path: str, rate: float, seconds: float, sockets: bool = False) -> dict:
        """The summary of a steady load (end-to-end latency percentiles in seconds)."""
        plan = LoadPlan(self.url, constant(rate, seconds), users=50, sockets=sockets, path=path)
        return summarise(generate(plan).requests)
