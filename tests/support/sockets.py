"""Job sockets in tests: owners, jobs, a worker's events, and sockets to read them."""

import secrets

from channels.testing import WebsocketCommunicator
from confluent_kafka import Producer
from django.contrib.sessions.backends.db import SessionStore

from streams import messages
from webapp.asgi import application
from webapp.claps.models import Applause, ClapJob
from webapp.claps.owners import SESSION_KEY
from webapp.realtime.paths import FEED_PATH, socket_path

ORIGIN = b"http://127.0.0.1"
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt "  # enough for the database; never sent on a socket


def new_owner() -> tuple[str, str]:
    """An anonymous browser session that owns jobs: (session key, owner key)."""
    session = SessionStore()
    session[SESSION_KEY] = secrets.token_urlsafe(24)
    session.create()
    return session.session_key, f"anon:{session[SESSION_KEY]}"


def new_job(owner: str, **fields) -> ClapJob:
    return ClapJob.objects.create(owner=owner, **{"claps": 3, **fields})


def store_applause(job_id: str) -> None:
    """What the recorder does with a done event (the socket waits for it)."""
    Applause.of(job_id, WAV).save(force_insert=True)


async def socket(job_id, session_key=None, origin=ORIGIN, path=None) -> WebsocketCommunicator:
    """A job's socket, or another path's (the owner's feed) with the same headers."""
    headers = [(b"origin", origin)]
    if session_key:
        headers.append((b"cookie", f"sessionid={session_key}".encode()))
    return WebsocketCommunicator(application, path or socket_path(job_id), headers=headers)


async def feed(session_key=None) -> WebsocketCommunicator:
    return await socket(None, session_key, path=FEED_PATH)


async def connected(job_id, session_key) -> WebsocketCommunicator:
    ws = await socket(job_id, session_key)
    accepted, _ = await ws.connect(timeout=15)  # the first one waits for the relay
    assert accepted
    return ws


async def feed_opened(session_key) -> WebsocketCommunicator:
    ws = await feed(session_key)
    accepted, _ = await ws.connect(timeout=15)  # the first one waits for the relay
    assert accepted
    return ws


async def close_code(ws: WebsocketCommunicator) -> int:
    """The code the server closed with (the socket is accepted first, so it has one)."""
    output = await ws.receive_output(timeout=10)
    assert output["type"] == "websocket.close", output
    return output.get("code", 1000)


async def until_final(ws: WebsocketCommunicator, timeout=15) -> list[dict]:
    """Every message up to and including the final one; the server then closes."""
    received = []
    while not received or received[-1]["type"] not in messages.FINAL_TYPES:
        received.append(await ws.receive_json_from(timeout=timeout))
    assert await close_code(ws) == 1000
    return received


class Events:
    """A worker's voice for one job: numbered events produced to the events topic,
    naming the job's feed as a worker does when given one (else the web reads it)."""

    def __init__(self, kafka, job_id: str, total: int = 3, worker: str = "worker-7", feed=""):
        self.kafka, self.job, self.total, self.worker = kafka, str(job_id), total, worker
        self.feed = feed
        self.pickup_ms = messages.now_ms()
        self.n = 0
        self.producer = Producer(kafka.producer())

    def event(self, kind: str, **fields) -> messages.JobEvent:
        event = messages.JobEvent(
            job=self.job,
            type=kind,
            seq=messages.seq_of(self.pickup_ms, self.n),
            at=messages.now(),
            worker=self.worker,
            total=self.total,
            feed=self.feed,
            **fields,
        )
        self.n += 1
        return event

    def emit(self, *events: messages.JobEvent) -> list[messages.JobEvent]:
        for event in events:
            self.producer.produce(self.kafka.topics.events, key=self.job, value=event.encode())
        assert self.producer.flush(10) == 0
        return list(events)

    def running(self, partition=0, offset=0):
        return self.event(messages.RUNNING, partition=partition, offset=offset, done=0)

    def progress(self, done):
        return self.event(messages.PROGRESS, done=done)

    def done(self):
        return self.event(messages.DONE, done=self.total, result_deflated=messages.deflate(WAV))
