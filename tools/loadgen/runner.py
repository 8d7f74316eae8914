"""One load run: submissions paced by a profile, each job followed to its end (over
its WebSocket, or in the site's database), the worker group sampled every second."""

import asyncio
import contextlib
import itertools
import time
from dataclasses import dataclass, field

from streams.config import KafkaConfig
from tools.loadgen.clients import FEED, SUBMIT_PATH, Site, User
from tools.loadgen.profiles import Profile
from tools.loadgen.summary import Request
from tools.loadgen.watch import GroupSampler, read_outcomes

WATCH_EVERY = 0.5  # seconds between database reads of outcomes
PROGRESS_EVERY = 0.5


@dataclass(frozen=True)
class LoadPlan:
    url: str
    profile: Profile
    users: int = 200  # simulated browsers, each its own owner
    claps: int = 1
    sockets: str = ""  # follow jobs over JOB_SOCKETS or the users' FEED, else in the database
    timeout: float = 10.0  # per HTTP request
    drain_timeout: float = 300.0  # after the last submission, for the jobs to finish
    connections: int = 100  # open HTTP connections for submissions
    path: str = SUBMIT_PATH


@dataclass
class LoadRun:
    plan: LoadPlan
    total: int = 0  # requests the profile sends
    began: float = 0.0  # wall clock at the first send
    requests: list[Request] = field(default_factory=list)
    samples: list[dict] = field(default_factory=list)

    @property
    def pending(self) -> list[Request]:
        return [r for r in self.requests if r.accepted and r.outcome is None]


def generate(plan: LoadPlan, kafka: KafkaConfig | None = None, progress=None) -> LoadRun:
    """Run the load; `kafka` enables the lag/worker samples, `progress(text)` gets a
    status line twice a second."""
    run = LoadRun(plan, total=len(plan.profile.send_times()))
    sampler = GroupSampler(kafka) if kafka else contextlib.nullcontext()
    with sampler:
        if kafka:
            run.samples = sampler.samples  # filled while the load runs
        asyncio.run(_generate(run, progress))
    return run


async def _generate(run: LoadRun, progress) -> None:
    plan = run.plan
    feeds = plan.sockets == FEED
    async with Site(plan.url, plan.users, plan.timeout, plan.connections, feeds) as site:
        reporter = asyncio.create_task(_report(run, progress)) if progress else None
        watcher = None if plan.sockets else asyncio.create_task(_watch(run))
        tasks = await _send(run, itertools.cycle(site.users))
        await asyncio.gather(*tasks)
        await _drain(run, watcher)
        for task in (reporter, watcher):
            if task is not None:
                task.cancel()
        if not plan.sockets:
            await read_outcomes(run.pending)
        if progress:
            progress(_status(run), final=True)


async def _send(run: LoadRun, users) -> list[asyncio.Task]:
    plan = run.plan
    loop = asyncio.get_running_loop()
    body = {"claps": plan.claps, "note": "loadgen"}
    start = loop.time()
    run.began = time.time()
    tasks = []
    for at in plan.profile.send_times():
        await asyncio.sleep(max(0.0, start + at - loop.time()))
        request = Request(sent_at=time.time())
        run.requests.append(request)
        tasks.append(asyncio.create_task(_submit(next(users), request, body, plan)))
    return tasks


async def _submit(user: User, request: Request, body: dict, plan: LoadPlan) -> None:
    await user.submit(request, body, plan.path)
    if plan.sockets and request.accepted:
        await user.follow(request, plan.drain_timeout)


async def _drain(run: LoadRun, watcher: asyncio.Task | None) -> None:
    """Wait (up to the drain timeout) until every accepted job is final."""
    if watcher is None:
        return  # the socket tasks have ended: final, failed or timed out
    deadline = time.monotonic() + run.plan.drain_timeout
    while run.pending and time.monotonic() < deadline:
        await asyncio.sleep(WATCH_EVERY)


async def _watch(run: LoadRun) -> None:
    while True:
        pending = run.pending
        if pending:
            await read_outcomes(pending)
        await asyncio.sleep(WATCH_EVERY)


async def _report(run: LoadRun, progress) -> None:
    while True:
        progress(_status(run))
        await asyncio.sleep(PROGRESS_EVERY)


def _status(run: LoadRun) -> str:
    total, sent = run.total, len(run.requests)
    accepted = sum(r.accepted for r in run.requests)
    errors = sum(1 for r in run.requests if r.error or r.follow_error)
    done = sum(r.outcome is not None for r in run.requests)
    elapsed = time.time() - run.began if run.began else 0.0
    width = 20
    bar = "#" * int(width * sent / total) if total else ""
    line = (
        f"[{bar:<{width}}] {elapsed:5.1f} s  sent {sent}/{total}  accepted {accepted}  "
        f"errors {errors}  final {done}"
    )
    sample = run.samples[-1] if run.samples else None
    if sample and sample["lag"] is not None:
        line += f"  lag {sample['lag']}  workers {sample['workers']}"
    return line
