"""The job socket checks Origin at the handshake (tests/realtime has the plain foreign
origin); the edge cases a browser or a script can send are refused too."""

import uuid

import pytest
from channels.testing import WebsocketCommunicator

from webapp.asgi import application

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    "origin",
    [
        None,  # no Origin header at all
        b"null",  # sandboxed iframes and file:// pages
        b"http://127.0.0.1.evil.example",
        b"http://evil.example/127.0.0.1",
        b"http://localhost@evil.example",
        b"",
    ],
)
async def test_a_socket_from_an_odd_origin_is_refused(origin):
    headers = [] if origin is None else [(b"origin", origin)]
    ws = WebsocketCommunicator(application, f"/ws/claps/{uuid.uuid4()}/", headers=headers)
    accepted, _ = await ws.connect(timeout=5)
    await ws.disconnect()
    assert not accepted
