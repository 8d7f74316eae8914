"""Waiting for the recorder to store a done job's applause, for every socket at once.

The relay is faster than the recorder, so a socket holds `done` until the URL it links
to answers. One check per process covers every job waiting at that moment (one query
each CHECK_EVERY, none when nobody waits), instead of each socket asking on its own,
which at 50 jobs/s made most of the web process's database calls.
"""

import asyncio
import contextlib
import logging

from django.db import DatabaseError

from webapp.claps.models import Applause
from webapp.realtime.lookups import socket_lookup

log = logging.getLogger(__name__)
CHECK_EVERY = 0.005  # seconds between checks while jobs wait; the recorder takes a few ms
MAX_PAUSE = 1.0  # seconds between checks while the database refuses them


class StoredApplause:
    def __init__(self, check_every: float = CHECK_EVERY):
        self.check_every = check_every
        self._waiting: dict[str, list[asyncio.Future]] = {}
        self._checker: asyncio.Task | None = None

    async def wait(self, job_id: str, timeout: float) -> bool:
        """True once the job's applause is stored; False after `timeout` seconds."""
        future = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(job_id, []).append(future)
        if self._checker is None or self._checker.done():
            self._checker = asyncio.create_task(self._check_while_waited())
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.shield(future)
        except TimeoutError:
            return False
        finally:
            futures = self._waiting.get(job_id, [])
            with contextlib.suppress(ValueError):
                futures.remove(future)
            if not futures:
                self._waiting.pop(job_id, None)

    async def _check_while_waited(self) -> None:
        pause = self.check_every
        while self._waiting:
            try:
                stored = await _stored_among(list(self._waiting))
            except DatabaseError as exc:
                # The jobs waiting now are checked again once it is back; a checker
                # that stopped here would leave them to their timeout.
                log.warning("could not check for stored applause: %s", exc)
                pause = min(MAX_PAUSE, pause * 2)
                stored = []
            else:
                pause = self.check_every
            for job_id in stored:
                for future in self._waiting.pop(job_id, []):
                    if not future.done():
                        future.set_result(True)
            if self._waiting:
                await asyncio.sleep(pause)


@socket_lookup
def _stored_among(job_ids: list[str]) -> list[str]:
    stored = Applause.objects.filter(job_id__in=job_ids).values_list("job_id", flat=True)
    return [str(job_id) for job_id in stored]


_stored: dict[asyncio.AbstractEventLoop, StoredApplause] = {}


def stored_applause() -> StoredApplause:
    """The waiter of the running event loop (the server's; tests run several loops)."""
    loop = asyncio.get_running_loop()
    if loop not in _stored:
        _stored.clear()  # a loop that is gone waits for nothing
        _stored[loop] = StoredApplause()
    return _stored[loop]
