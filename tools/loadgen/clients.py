"""Simulated users of a site over aiohttp: each has its own cookie jar, so its own
anonymous owner (and throttle bucket), submits jobs and can follow one over its
WebSocket until the job is final."""

import asyncio
import json
import secrets
import time

import aiohttp
from yarl import URL

from streams.messages import FINAL_TYPES
from tools.loadgen.summary import Request

SUBMIT_PATH = "/api/claps/"


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

    async def follow(self, request: Request, timeout: float) -> None:
        """Read the job's socket until a final message (or the timeout)."""
        url = self.site.ws_url / "ws" / "claps" / request.job_id / ""
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
        await self.session.close()


def _final(message: dict, request: Request) -> bool:
    """Record a final message's outcome on the request; True when it was final."""
    if message.get("status") not in FINAL_TYPES:
        return False
    if message["type"] == "snapshot":  # final before the socket opened: not seen live
        request.live = False
    elif message["type"] in FINAL_TYPES:
        request.done_at, request.live = time.time(), True
    else:
        return False
    request.outcome = message["status"]
    request.final_seen_at = request.done_at or time.time()
    return True


class Site:
    """The site under load and its users; `async with` opens and closes them."""

    def __init__(self, url: str, users: int, timeout: float = 10.0, connections: int = 100):
        self.url = URL(url)
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

        await asyncio.gather(*(sign_in(u) for u in self.users))
        return self

    async def __aexit__(self, *exc) -> None:
        for user in self.users:
            await user.close()
        await self.sockets.close()
        await self.connector.close()
