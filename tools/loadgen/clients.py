"""Simulated users of a site over aiohttp: each has its own cookie jar, so its own
anonymous owner (and throttle bucket), submits jobs and can follow them until they
are final: each over its own WebSocket (/ws/claps/<id>/, opened when the POST is
answered, as the job's page does), or all over the user's feed (/ws/claps/, opened
once before the first submission)."""

import asyncio
import json
import secrets
import time

import aiohttp
from yarl import URL

from streams.messages import FINAL_TYPES
from tools.loadgen.summary import Request
from webapp.realtime.paths import FEED_PATH, socket_path

SUBMIT_PATH = "/api/claps/"
JOB_SOCKETS, FEED = "job", "feed"  # how jobs are followed over sockets


class User:
    def __init__(self, site: "Site"):
        self.site = site
        # Django's CSRF check is a double submit: any well-formed secret works when
        # the cookie and the header carry the same one.
        self.csrf = secrets.token_hex(16)
        jar = aiohttp.CookieJar(unsafe=True)  # unsafe: keep cookies of IP-address hosts
        jar.update_cookies({"csrftoken": self.csrf}, site.url)
        self.session = aiohttp.ClientSession(
            connector=site.connector, connector_owner=False, cookie_jar=jar, timeout=site.timeout
        )
        self.feed: Feed | None = None

    async def sign_in(self) -> None:
        """Any API read makes the session's anonymous owner; later requests are its."""
        async with self.session.get(self.site.url / SUBMIT_PATH.strip("/") / "") as resp:
            resp.raise_for_status()
            await resp.read()

    async def submit(self, request: Request, body: dict, path: str = SUBMIT_PATH) -> None:
        headers = {"X-CSRFToken": self.csrf, "Origin": self.site.origin}
        try:
            async with self.session.post(
                self.site.url.join(URL(path)), json=body, headers=headers
            ) as resp:
                payload = await resp.read()
                request.answered_at = time.time()
                request.status = resp.status
                if resp.status == 202:
                    request.job_id = json.loads(payload)["id"]
                else:
                    request.error = f"http {resp.status}"
        except TimeoutError:
            request.error = "timeout"
        except aiohttp.ClientConnectionError:
            request.error = "connection"
        except aiohttp.ClientError as exc:
            request.error = type(exc).__name__

    async def open_feed(self) -> None:
        url = self.site.ws_url.join(URL(FEED_PATH))
        ws = await self.site.sockets.ws_connect(
            url, origin=self.site.origin, headers=self._cookie_header()
        )
        self.feed = Feed(ws)

    async def follow(self, request: Request, timeout: float) -> None:
        """Wait for the job's final message: on the feed if open, else on its socket."""
        if self.feed is not None:
            await self.feed.follow(request, timeout)
            return
        url = self.site.ws_url.join(URL(socket_path(request.job_id)))
        try:
            async with asyncio.timeout(timeout):
                async with self.site.sockets.ws_connect(
                    url, origin=self.site.origin, headers=self._cookie_header()
                ) as ws:
                    async for msg in ws:
                        if msg.type != aiohttp.WSMsgType.TEXT:
                            break
                        if _final(json.loads(msg.data), request):
                            return
                    request.follow_error = f"socket closed {ws.close_code}"
        except TimeoutError:
            request.follow_error = "socket timeout"
        except aiohttp.ClientError as exc:
            request.follow_error = f"socket {type(exc).__name__}"

    def _cookie_header(self) -> dict[str, str]:
        cookies = self.session.cookie_jar.filter_cookies(self.site.url)
        return {"Cookie": "; ".join(f"{k}={v.value}" for k, v in cookies.items())}

    async def close(self) -> None:
        if self.feed is not None:
            await self.feed.close()
        await self.session.close()


class Feed:
    """A user's feed: reads every message as it arrives and keeps each job's final
    one, which may come before the job's POST is even answered."""

    def __init__(self, ws):
        self.ws = ws
        self.finals: dict[str, tuple[dict, float]] = {}  # job id -> (message, arrival)
        self.waiting: dict[str, asyncio.Future] = {}
        self.closed: str | None = None  # why the feed ended, when it did
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for msg in self.ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
                message = json.loads(msg.data)
                if message.get("status") in FINAL_TYPES:
                    self.finals[message["id"]] = (message, time.time())
                    waiter = self.waiting.pop(message["id"], None)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(None)
            self.closed = f"feed closed {self.ws.close_code}"
        except aiohttp.ClientError as exc:
            self.closed = f"feed {type(exc).__name__}"
        for waiter in self.waiting.values():
            if not waiter.done():
                waiter.set_result(None)

    async def follow(self, request: Request, timeout: float) -> None:
        if request.job_id not in self.finals and self.closed is None:
            waiter = self.waiting.setdefault(
                request.job_id, asyncio.get_running_loop().create_future()
            )
            try:
                await asyncio.wait_for(asyncio.shield(waiter), timeout)
            except TimeoutError:
                request.follow_error = "feed timeout"
                return
        if request.job_id not in self.finals:
            request.follow_error = self.closed
            return
        message, arrived = self.finals.pop(request.job_id)
        _final(message, request, arrived)

    async def close(self) -> None:
        self.reader.cancel()
        await self.ws.close()


def _final(message: dict, request: Request, arrived: float | None = None) -> bool:
    """Record a final message's outcome on the request (`arrived`: when it came, else
    now); True when it was final."""
    arrived = arrived or time.time()
    if message.get("status") not in FINAL_TYPES:
        return False
    if message["type"] == "snapshot":  # final before the socket opened: not seen live
        request.live = False
    elif message["type"] in FINAL_TYPES:
        request.done_at, request.live = arrived, True
    else:
        return False
    request.outcome = message["status"]
    request.final_seen_at = arrived
    return True


class Site:
    """The site under load and its users; `async with` opens and closes them."""

    def __init__(
        self,
        url: str,
        users: int,
        timeout: float = 10.0,
        connections: int = 100,
        feeds: bool = False,
    ):
        self.url = URL(url)
        self.feeds = feeds  # each user opens its feed after signing in
        self.origin = str(self.url.origin())
        self.ws_url = self.url.with_scheme("wss" if self.url.scheme == "https" else "ws")
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.connections = connections
        self.user_count = users
        self.users: list[User] = []

    async def __aenter__(self) -> "Site":
        self.connector = aiohttp.TCPConnector(limit=self.connections)
        # Sockets stay open for a job's life; they must not hold up submissions.
        self.sockets = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), cookie_jar=aiohttp.DummyCookieJar()
        )
        self.users = [User(self) for _ in range(self.user_count)]
        gate = asyncio.Semaphore(self.connections)

        async def sign_in(user: User) -> None:
            async with gate:
                await user.sign_in()
                if self.feeds:
                    await user.open_feed()

        await asyncio.gather(*(sign_in(u) for u in self.users))
        return self

    async def __aexit__(self, *exc) -> None:
        for user in self.users:
            await user.close()
        await self.sockets.close()
        await self.connector.close()
