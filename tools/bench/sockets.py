"""How many job sockets one web process (daphne) holds while their jobs report
progress, how late that progress arrives, and what a socket costs in memory.

The web process runs over private topics (tools.sandbox). This process opens
the sockets (aiohttp) as the owners of running jobs, then produces progress events
straight to the events topic at a steady rate spread over every job, each stamped
with its send time; a socket's delay is its receive time minus that stamp.
"""

import asyncio
import io
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime

from confluent_kafka import Producer
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session

from streams import messages
from streams.config import KafkaConfig
from tools.bench.pipeline import wait_until
from tools.bench.proc import cpu_seconds, rss_kib
from tools.ports import free_port
from tools.processes import ProcessGroup
from tools.sandbox import drop_private_kafka, private_kafka, process_env, undone_on_failure
from tools.web import ASGI_APP, DAPHNE_OPTIONS, SERVER
from webapp.claps.models import ClapJob, Status
from webapp.claps.owners import SESSION_KEY

OPENING_AT_ONCE = 50  # handshakes in flight while the sockets open
DRAIN_SECONDS = 5.0  # how long to wait for the last events after the producer stops


@dataclass
class SocketRun:
    requested: int
    opened: int = 0
    still_open: int = 0
    rss_before_kib: int = 0
    rss_after_kib: int = 0
    sent: int = 0
    cpu_seconds: float = 0.0  # the web process's, while the events flowed
    seconds: float = 0.0
    delays: list[float] = field(default_factory=list)

    @property
    def kib_per_socket(self) -> float:
        return (self.rss_after_kib - self.rss_before_kib) / max(1, self.opened)


class SocketBench:
    """One web process and `sockets` running jobs, owned `per_session` to a session."""

    def __init__(self, base: KafkaConfig, sockets: int, per_session: int = 20):
        self.kafka = private_kafka(base, partitions=12, prefix="bench")
        self.sockets = sockets
        self.per_session = per_session
        self.group = ProcessGroup(io.StringIO())
        self.jobs: list[tuple[str, str]] = []  # (job id, session key)

    def __enter__(self):
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        argv = [*SERVER, "-b", "127.0.0.1", "-p", str(port), *DAPHNE_OPTIONS]
        with undone_on_failure(self):
            self._create_jobs()
            web = self.group.start("web", [*argv, ASGI_APP], process_env(self.kafka))
            self.pid = web.proc.pid
            wait_until(lambda: _answers(f"{self.base}/healthz"), 60, "the web process")
        return self

    def __exit__(self, *exc):
        self.group.stop_all(timeout=30)
        drop_private_kafka(self.kafka)
        ClapJob.objects.filter(id__in=[job for job, _ in self.jobs]).delete()
        Session.objects.filter(session_key__in={key for _, key in self.jobs}).delete()

    def _create_jobs(self) -> None:
        # Running and published: the recorder's sweeper leaves them alone.
        now = datetime.now(UTC)
        for start in range(0, self.sockets + 1, self.per_session):  # +1: the warm-up's
            session = SessionStore()
            session[SESSION_KEY] = f"bench-{secrets.token_urlsafe(16)}"
            session.create()
            owner = f"anon:{session[SESSION_KEY]}"
            count = min(self.per_session, self.sockets + 1 - start)
            rows = ClapJob.objects.bulk_create(
                ClapJob(owner=owner, claps=100, status=Status.RUNNING, published_at=now)
                for _ in range(count)
            )
            self.jobs += [(str(job.id), session.session_key) for job in rows]

    def run(self, rate: float, seconds: float) -> SocketRun:
        return asyncio.run(self._run(rate, seconds))

    async def _run(self, rate: float, seconds: float) -> SocketRun:
        import aiohttp  # a development dependency, like the benchmark itself

        result = SocketRun(requested=self.sockets)
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as http:
            warm_up, *jobs = self.jobs
            await self._warm_up(http, *warm_up)
            result.rss_before_kib = rss_kib(self.pid)
            gate = asyncio.Semaphore(OPENING_AT_ONCE)
            outcomes: list[bool] = []  # one per socket: did it open
            sockets = [
                asyncio.create_task(self._listen(http, job, key, gate, outcomes, result.delays))
                for job, key in jobs
            ]
            deadline = time.monotonic() + 180
            while len(outcomes) < len(jobs) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            result.opened = sum(outcomes)
            await asyncio.sleep(2)  # let the server settle before weighing it
            result.rss_after_kib = rss_kib(self.pid)
            cpu_before = cpu_seconds(self.pid)
            began = time.monotonic()
            result.sent = await asyncio.to_thread(self._produce, jobs, rate, seconds)
            deadline = time.monotonic() + DRAIN_SECONDS
            while len(result.delays) < result.sent and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            result.seconds = time.monotonic() - began
            result.cpu_seconds = cpu_seconds(self.pid) - cpu_before
            result.still_open = sum(not task.done() for task in sockets)
            for task in sockets:
                task.cancel()
            await asyncio.gather(*sockets, return_exceptions=True)
        return result

    async def _warm_up(self, http, job: str, key: str) -> None:
        """One socket first, so the baseline includes the relay and the thread pools."""
        async with http.ws_connect(self._url(job), headers=self._headers(key)) as ws:
            await ws.receive_json(timeout=30)

    async def _listen(self, http, job, key, gate, outcomes, delays) -> None:
        import aiohttp

        async with gate:
            try:
                ws = await http.ws_connect(self._url(job), headers=self._headers(key))
                await ws.receive_json(timeout=60)  # the snapshot
            except (aiohttp.ClientError, TimeoutError, TypeError):
                outcomes.append(False)  # TypeError: closed instead of a snapshot
                return
        outcomes.append(True)
        async with ws:
            async for msg in ws:
                data = msg.json()
                if data["type"] == "progress":
                    delays.append(time.time() - data["at"])

    def _produce(self, jobs: list[tuple[str, str]], rate: float, seconds: float) -> int:
        producer = Producer(self.kafka.producer())
        warm_up = self.jobs[0][0]  # its socket is closed: nobody receives this one
        producer.produce(self.kafka.topics.events, key=warm_up, value=b"{}")
        producer.flush(30)  # the producer id is acquired before the clock starts
        numbers = {job: 0 for job, _ in jobs}
        first_seq = messages.seq_of(messages.now_ms(), 0)
        count = int(rate * seconds)
        began = time.perf_counter()
        for i in range(count):
            time.sleep(max(0.0, began + i / rate - time.perf_counter()))  # pacing
            job = jobs[i % len(jobs)][0]
            numbers[job] += 1
            event = messages.JobEvent(
                job=job,
                type=messages.PROGRESS,
                seq=first_seq + numbers[job],
                at=time.time(),
                done=numbers[job] % 100,
                total=100,
            )
            producer.produce(self.kafka.topics.events, key=job, value=event.encode())
            producer.poll(0)
        producer.flush(30)
        return count

    def _url(self, job: str) -> str:
        return f"{self.base.replace('http', 'ws', 1)}/ws/claps/{job}/"

    def _headers(self, session_key: str) -> dict[str, str]:
        return {"Origin": self.base, "Cookie": f"sessionid={session_key}"}


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - our own server
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False
