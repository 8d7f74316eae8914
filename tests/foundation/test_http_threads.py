"""HTTP through Django's WSGI handler on the web process's pool of threads."""

import asyncio
import io
import json
import threading

import pytest
from asgiref.testing import ApplicationCommunicator
from django.core.signals import request_finished
from django.core.wsgi import get_wsgi_application

from webapp.core.http_threads import ThreadPoolHTTP, wsgi_environ


def _scope(method="GET", path="/", headers=(), **extra) -> dict:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": b"",
        "headers": [(k.encode(), v.encode()) for k, v in headers],
        "client": ("127.0.0.9", 50000),
        "server": ("127.0.0.1", 8000),
        **extra,
    }


async def _exchange(app, scope, body=b"") -> list[dict]:
    """Every message the app sends for one request, up to the end of its body."""
    talk = ApplicationCommunicator(app, scope)
    await talk.send_input({"type": "http.request", "body": body})
    messages = [await talk.receive_output(10)]
    while messages[-1]["type"] == "http.response.start" or messages[-1].get("more_body"):
        messages.append(await talk.receive_output(10))
    await talk.wait(10)
    return messages


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_request_reaches_django_whole_and_ends_on_a_pool_thread():
    finished_on = []

    def finished(**kwargs):
        finished_on.append(threading.current_thread().name)

    request_finished.connect(finished)
    try:
        app = ThreadPoolHTTP(get_wsgi_application(), threads=2)
        body = json.dumps({"claps": 0}).encode()
        headers = [
            ("host", "127.0.0.1"),
            ("content-type", "application/json"),
            ("content-length", str(len(body))),
        ]
        start, end = await _exchange(app, _scope("POST", "/api/claps/", headers), body)
    finally:
        request_finished.disconnect(finished)
    assert start["status"] == 400
    assert (b"content-type", b"application/json") in start["headers"]
    assert "claps" in json.loads(end["body"])  # the body arrived and was validated
    assert end["more_body"] is False
    # The WSGI response was closed on the thread that served it: Django's request end
    # (its connection given back) ran there.
    assert [name.startswith("http") for name in finished_on] == [True]


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_chunked_body_without_content_length_reaches_django():
    app = ThreadPoolHTTP(get_wsgi_application(), threads=1)
    headers = [("host", "127.0.0.1"), ("content-type", "application/json")]
    talk = ApplicationCommunicator(app, _scope("POST", "/api/claps/", headers))
    await talk.send_input({"type": "http.request", "body": b'{"claps":', "more_body": True})
    await talk.send_input({"type": "http.request", "body": b" 0}"})
    start = await talk.receive_output(10)
    end = await talk.receive_output(10)
    assert start["status"] == 400
    assert "claps" in json.loads(end["body"])  # not "request body is missing"


@pytest.mark.asyncio
async def test_a_streamed_body_goes_out_chunk_by_chunk_and_the_app_is_closed():
    closed_on = []

    class Streamed:
        def __init__(self, environ, start_response):
            start_response("200 OK", [("Content-Type", "text/plain")])

        def __iter__(self):
            yield from (b"one ", b"", b"two ", b"three")

        def close(self):
            closed_on.append(threading.current_thread().name)

    messages = await _exchange(ThreadPoolHTTP(Streamed, threads=1), _scope())
    assert messages[0] == {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", b"text/plain")],
    }
    assert [(m["body"], m["more_body"]) for m in messages[1:]] == [
        (b"one ", True),
        (b"two ", True),
        (b"three", False),
    ]
    assert len(closed_on) == 1 and closed_on[0].startswith("http")


@pytest.mark.asyncio
async def test_a_response_that_fails_after_it_began_is_ended_and_logged(caplog):
    """An exception out of the app then would reach daphne, which stops reaping its
    connections for good trying to answer it with a 500 (its response has begun)."""

    class FailsMidway:
        def __init__(self, environ, start_response):
            start_response("200 OK", [("Content-Type", "text/plain")])

        def __iter__(self):
            yield b"one "
            yield b"two "
            raise OSError("the file went away")

    messages = await _exchange(ThreadPoolHTTP(FailsMidway, threads=1), _scope(path="/big"))
    assert [(m["body"], m["more_body"]) for m in messages[1:]] == [
        (b"one ", True),
        (b"", False),
    ]
    assert "GET /big failed after its response began" in caplog.text
    assert "the file went away" in caplog.text


@pytest.mark.asyncio
async def test_requests_in_progress_are_bounded_by_the_threads():
    running, most, lock = 0, 0, threading.Lock()
    two_in, release = threading.Event(), threading.Event()

    def app(environ, start_response):
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
            if running == 2:
                two_in.set()
        release.wait(10)
        with lock:
            running -= 1
        start_response("204 No Content", [])
        return [b""]

    http = ThreadPoolHTTP(app, threads=2)
    exchanges = [asyncio.create_task(_exchange(http, _scope())) for _ in range(5)]
    await asyncio.to_thread(two_in.wait, 10)
    release.set()
    answers = await asyncio.gather(*exchanges)
    assert [messages[0]["status"] for messages in answers] == [204] * 5
    assert most == 2


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "probe_scope",
    [{"path": "/healthz"}, {"path": "/behind/a/proxy/healthz", "root_path": "/behind/a/proxy"}],
    ids=["at the root", "below a root path"],
)
async def test_the_paths_apart_are_served_while_every_thread_is_busy(probe_scope):
    entered, release = threading.Event(), threading.Event()

    def app(environ, start_response):
        if environ["PATH_INFO"] != "/healthz":
            entered.set()
            release.wait(10)
        start_response("200 OK", [])
        return [environ["PATH_INFO"].encode()]

    http = ThreadPoolHTTP(app, threads=1, apart=[["/healthz"]])
    stuck = [asyncio.create_task(_exchange(http, _scope(path="/api/claps/"))) for _ in range(3)]
    await asyncio.to_thread(entered.wait, 10)  # the one thread is taken, two wait for it
    probe = await _exchange(http, _scope(**probe_scope))
    assert probe[-1]["body"] == b"/healthz"
    assert not any(task.done() for task in stuck)  # the probe did not wait for them
    release.set()
    assert [m[-1]["body"] for m in await asyncio.gather(*stuck)] == [b"/api/claps/"] * 3


@pytest.mark.asyncio
async def test_each_group_apart_has_a_thread_of_its_own():
    entered, release = threading.Event(), threading.Event()

    def app(environ, start_response):
        if environ["PATH_INFO"] == "/readyz":
            entered.set()
            release.wait(10)
        start_response("200 OK", [])
        return [environ["PATH_INFO"].encode()]

    http = ThreadPoolHTTP(app, threads=1, apart=[["/healthz"], ["/readyz", "/metrics"]])
    slow = asyncio.create_task(_exchange(http, _scope(path="/readyz")))
    await asyncio.to_thread(entered.wait, 10)
    queued = asyncio.create_task(_exchange(http, _scope(path="/metrics")))
    assert (await _exchange(http, _scope(path="/healthz")))[-1]["body"] == b"/healthz"
    assert not slow.done() and not queued.done()  # /metrics waits behind /readyz
    release.set()
    assert [m[-1]["body"] for m in await asyncio.gather(slow, queued)] == [b"/readyz", b"/metrics"]


@pytest.mark.asyncio
async def test_a_client_gone_before_its_body_is_whole_runs_nothing():
    called = []
    talk = ApplicationCommunicator(
        ThreadPoolHTTP(lambda environ, start: called.append(environ), 1), _scope("POST")
    )
    await talk.send_input({"type": "http.request", "body": b"par", "more_body": True})
    await talk.send_input({"type": "http.disconnect"})
    await talk.wait(10)
    assert called == []


def test_the_environ_of_a_scope():
    body = io.BytesIO(b"{}")
    scope = _scope(
        "POST",
        "/site/api/clap\u00e9s/",
        [
            ("content-type", "application/json"),
            ("content-length", "2"),
            ("x-forwarded-for", "10.0.0.1"),
            ("x-forwarded-for", "10.0.0.2"),
        ],
        root_path="/site",
        query_string=b"page=2",
        scheme="https",
    )
    environ = wsgi_environ(scope, body)
    assert environ["SCRIPT_NAME"] == "/site"
    assert environ["PATH_INFO"] == "/api/clap\u00e9s/".encode().decode("latin1")
    assert environ["QUERY_STRING"] == "page=2"
    assert environ["CONTENT_TYPE"] == "application/json"
    assert environ["CONTENT_LENGTH"] == "2"
    assert "HTTP_CONTENT_TYPE" not in environ
    assert environ["HTTP_X_FORWARDED_FOR"] == "10.0.0.1,10.0.0.2"
    assert environ["REMOTE_ADDR"] == "127.0.0.9"
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("127.0.0.1", "8000")
    assert environ["wsgi.url_scheme"] == "https"
    assert environ["wsgi.input"] is body


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_site_answers_readiness_while_a_scrape_is_slow(monkeypatch):
    from webapp.asgi import application

    entered, release = threading.Event(), threading.Event()

    def slow_scrape(_registry):  # a /metrics whose queries take their time
        entered.set()
        release.wait(10)
        return b""

    monkeypatch.setattr("webapp.dashboard.metrics.generate_latest", slow_scrape)
    http = application.app.application_mapping["http"]
    host = [("host", "127.0.0.1")]
    scrape = asyncio.create_task(_exchange(http, _scope(path="/metrics", headers=host)))
    await asyncio.to_thread(entered.wait, 10)
    ready = _scope(path="/readyz", headers=host, query_string=b"check=database")
    assert (await _exchange(http, ready))[0]["status"] == 200
    assert not scrape.done()
    release.set()
    assert (await scrape)[0]["status"] == 200
