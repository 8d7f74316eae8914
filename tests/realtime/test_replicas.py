"""Two web processes, a recorder and a real worker: every replica's relay reads all of
clap.events, so a socket on either one follows its own job to the end."""

import asyncio

import aiohttp
import pytest
from channels.db import database_sync_to_async as db

from tests.support.pipeline import start_web
from tests.support.sockets import new_owner
from webapp.claps import services
from webapp.realtime.paths import socket_path

pytestmark = [pytest.mark.kafka, pytest.mark.asyncio]


async def follow(http, base, job_id, session_key, following: asyncio.Event) -> list[dict]:
    """Every message of the job's socket; `following` is set with the first one (the
    snapshot), once the socket is in its job's group."""
    url = base.replace("http", "ws", 1) + socket_path(job_id)
    headers = {"Origin": base, "Cookie": f"sessionid={session_key}"}
    received = []
    async with http.ws_connect(url, headers=headers) as ws:
        async for msg in ws:
            assert msg.type == aiohttp.WSMsgType.TEXT, msg
            received.append(msg.json())
            following.set()
        assert ws.close_code == 1000
    return received


async def test_sockets_on_two_replicas_each_follow_their_own_job(stack):
    stack.recorder()
    web = [start_web(stack, "web-1"), start_web(stack, "web-2")]
    jobs = []
    for claps in (3, 4):
        key, owner = await db(new_owner)()
        job = await db(services.clap_submit)(owner=owner, claps=claps)
        jobs.append((job, key))
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        opened = [asyncio.Event() for _ in jobs]
        following = [
            asyncio.create_task(follow(http, base, job.id, key, event))
            for base, (job, key), event in zip(web, jobs, opened, strict=True)
        ]
        # Both sockets follow their jobs before the work begins.
        await asyncio.wait_for(asyncio.gather(*(event.wait() for event in opened)), 30)
        stack.worker("worker-1", CLAP_WORK_MS="50")
        results = await asyncio.gather(*following)

    for (job, _), received in zip(jobs, results, strict=True):
        assert {m["id"] for m in received} == {str(job.id)}
        types = [m["type"] for m in received]
        assert types[0] == "snapshot" and types[-1] == "done", types
        assert "status" in types
        assert received[-1]["progress"]["total"] == job.claps
