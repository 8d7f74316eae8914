"""A bound on the HTTP requests a web process runs at once.

Under ASGI Django runs each synchronous request in a thread of its own, so a burst of
N requests is N runnable threads sharing the process's one GIL with the event loop
(which serves every WebSocket) and the relay's thread. At 200 submissions a second
those two got so little of the GIL that live events reached their sockets seconds
after the jobs were done. Requests beyond the bound wait on the event loop, threadless,
in arrival order. The probes and the metrics scrape never wait: a busy process is
not a dead one.
"""

import asyncio
import weakref

UNQUEUED = frozenset({"/healthz", "/readyz", "/metrics"})


class InFlightLimit:
    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit
        # One semaphore per event loop: a server has one, tests run several.
        self._slots: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    async def __call__(self, scope, receive, send):
        if scope["path"] in UNQUEUED:
            return await self.app(scope, receive, send)
        loop = asyncio.get_running_loop()
        slots = self._slots.get(loop)
        if slots is None:
            slots = self._slots[loop] = asyncio.Semaphore(self.limit)
        async with slots:
            return await self.app(scope, receive, send)
