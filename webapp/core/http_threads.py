"""The site's HTTP requests on a fixed pool of threads inside the ASGI server.

Django's ASGI handler runs each request's synchronous code on a thread it starts for
that request and stops when the request ends. On this project's 2-core machine a
view that does nothing cost 2.29 ms of web CPU per request that way, and 0.75 ms this
way (docs/benchmarks.md). Every view of the site is synchronous, so HTTP goes
through Django's WSGI handler on threads that live as long as the process, as a
threaded WSGI server runs Django; WebSockets stay on Channels. The pool's size bounds
the requests in progress in a process, and so the database connections they hold.
"""

import asyncio
import logging
import sys
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from tempfile import SpooledTemporaryFile

log = logging.getLogger(__name__)
BODY_IN_MEMORY = 64 * 1024  # bytes of a request body kept in memory, the rest spooled


class ThreadPoolHTTP:
    """An ASGI application serving HTTP with a WSGI application on `threads` threads;
    each group of paths in `apart` (below the root path, as Django routes them) on one
    more thread of its own."""

    def __init__(self, wsgi_application, threads: int, apart: Iterable[Iterable[str]] = ()):
        self.wsgi_application = wsgi_application
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="http")
        self.lanes = {}
        for n, paths in enumerate(apart):
            lane = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"http-apart-{n}")
            self.lanes.update(dict.fromkeys(paths, lane))

    async def __call__(self, scope, receive, send):
        with SpooledTemporaryFile(max_size=BODY_IN_MEMORY) as body:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return  # gone before its request was whole: nothing to answer
                body.write(message.get("body", b""))
                if not message.get("more_body"):
                    break
            length = body.tell()
            body.seek(0)
            environ = wsgi_environ(scope, body)
            # A chunked body comes without Content-Length, and Django's WSGI request
            # reads only that many bytes; the body is whole here, so its length is known.
            environ.setdefault("CONTENT_LENGTH", str(length))
            response = _Response(send, asyncio.get_running_loop())
            pool = self.lanes.get(environ["PATH_INFO"], self.pool)
            try:
                last = await response.loop.run_in_executor(
                    pool, response.run, self.wsgi_application, environ
                )
            except Exception:
                if not response.started:
                    raise  # the server answers 500
                # Too late for a 500, and daphne's answer to an exception then is to
                # start one anyway, which fails in its clean-up loop and stops that
                # loop for the rest of the process. The client gets a cut response.
                log.exception(
                    "%s %s failed after its response began", scope["method"], scope["path"]
                )
                last = b""
            await response.body(last, more=False)


class _Response:
    def __init__(self, send, loop):
        self.send = send
        self.loop = loop
        self.start: dict | None = None  # the http.response.start message, until sent
        self.started = False

    def start_response(self, status: str, headers, exc_info=None):
        if exc_info is not None and self.started:
            raise exc_info[1].with_traceback(exc_info[2])
        self.start = {
            "type": "http.response.start",
            "status": int(status.split(" ", 1)[0]),
            "headers": [(k.lower().encode("latin1"), v.encode("latin1")) for k, v in headers],
        }

    def run(self, app, environ) -> bytes:
        """On a pool thread: runs the app and sends every chunk of its body but the
        last, which it returns. One chunk (every response but a streaming one) crosses
        to the event loop only once, with the response's end."""
        result = app(environ, self.start_response)
        try:
            held = b""
            for chunk in result:
                if not chunk:
                    continue
                if held:
                    asyncio.run_coroutine_threadsafe(self.body(held, more=True), self.loop).result()
                held = chunk
            return held
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()  # Django's request_finished: the connection goes back to the pool

    async def body(self, chunk: bytes, more: bool) -> None:
        if not self.started:
            self.started = True
            await self.send(self.start)
        await self.send({"type": "http.response.body", "body": chunk, "more_body": more})


def wsgi_environ(scope: dict, body) -> dict:
    """The WSGI environ of an ASGI HTTP scope (PEP 3333: paths as latin-1 of UTF-8)."""
    root = scope.get("root_path", "")
    path = scope["path"].removeprefix(root)
    server = scope.get("server") or ("localhost", 80)
    environ = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": root.encode().decode("latin1"),
        "PATH_INFO": path.encode().decode("latin1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin1"),
        "SERVER_NAME": server[0],
        "SERVER_PORT": str(server[1] or 80),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if scope.get("client"):
        environ["REMOTE_ADDR"] = scope["client"][0]
    for name, value in scope.get("headers", []):
        key = name.decode("latin1").upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = f"HTTP_{key}"
        value = value.decode("latin1")
        environ[key] = f"{environ[key]},{value}" if key in environ else value  # repeated header
    return environ
