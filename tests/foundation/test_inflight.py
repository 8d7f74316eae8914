"""The bound on a web process's HTTP requests in flight (webapp.core.inflight)."""

import asyncio

import pytest

from webapp.core.inflight import InFlightLimit

pytestmark = pytest.mark.asyncio


class HeldApp:
    """An ASGI app whose requests stay in until released; counts how many are in."""

    def __init__(self):
        self.inside, self.most, self.order = 0, 0, []
        self.release = asyncio.Event()

    async def __call__(self, scope, receive, send):
        self.inside += 1
        self.most = max(self.most, self.inside)
        self.order.append(scope["path"])
        if scope["path"] not in ("/healthz", "/readyz", "/metrics"):
            await self.release.wait()
        self.inside -= 1


def _http(path: str) -> dict:
    return {"type": "http", "path": path}


async def test_requests_beyond_the_bound_wait_their_turn_in_order():
    app = HeldApp()
    limited = InFlightLimit(app, limit=2)
    calls = [asyncio.create_task(limited(_http(f"/api/{n}/"), None, None)) for n in range(5)]
    while len(app.order) < 2:
        await asyncio.sleep(0)
    for _ in range(10):  # the others had every chance to get in
        await asyncio.sleep(0)
    assert app.inside == 2 and app.order == ["/api/0/", "/api/1/"]
    app.release.set()
    await asyncio.gather(*calls)
    assert app.most == 2
    assert app.order == [f"/api/{n}/" for n in range(5)]


async def test_probes_and_the_scrape_never_wait():
    app = HeldApp()
    limited = InFlightLimit(app, limit=1)
    held = asyncio.create_task(limited(_http("/api/claps/"), None, None))
    while app.inside < 1:
        await asyncio.sleep(0)
    for path in ("/healthz", "/readyz", "/metrics"):
        await asyncio.wait_for(limited(_http(path), None, None), 5)
    assert app.order == ["/api/claps/", "/healthz", "/readyz", "/metrics"]
    app.release.set()
    await held
