"""A socket holds `done` until the recorder stored the applause: one check per process."""

import asyncio

import pytest
from channels.db import database_sync_to_async as db
from django.db import OperationalError

from tests.support.sockets import new_job, new_owner, store_applause
from webapp.realtime import stored

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def test_jobs_waiting_while_the_database_is_away_are_checked_once_it_is_back(
    monkeypatch, caplog
):
    _, owner = await db(new_owner)()
    job = await db(new_job)(owner)
    check = stored._stored_among
    refusals = []
    refused_twice = asyncio.Event()

    async def away_twice(job_ids):
        if len(refusals) < 2:
            refusals.append(job_ids)
            if len(refusals) == 2:
                refused_twice.set()
            raise OperationalError("the database went away")
        return await check(job_ids)

    monkeypatch.setattr(stored, "_stored_among", away_twice)
    waiter = stored.StoredApplause()
    waiting = asyncio.create_task(waiter.wait(str(job.id), timeout=10))
    await asyncio.wait_for(refused_twice.wait(), 10)
    assert refusals == [[str(job.id)], [str(job.id)]]
    assert not waiting.done()
    await db(store_applause)(str(job.id))
    assert await waiting is True
    assert "could not check for stored applause" in caplog.text
