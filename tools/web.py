"""Several daphne processes serving one port, for `make run`, the spike and the bench.

A daphne process runs Python under one GIL, so it uses at most about one core. This
starts N of them on one port, each on a listening socket of its own, all bound with
SO_REUSEPORT and a deep listen backlog (`daphne --fd`): the kernel spreads the
connections over the sockets by their address hash, as a Service spreads them over
pods. One shared socket would hand each connection to whichever process accepts
first, and Twisted accepts all the waiting ones at once: a burst of keep-alive
connections could all land on one process while the other idled, which halved the
bench's submissions in some runs. Each process has its own relay, as it would in its
own pod.
"""

import os
import socket
import sys

from tools.processes import Child, ProcessGroup

# daphne through the site's own entry (webapp/server.py), in every web process.
SERVER = (sys.executable, "-m", "webapp.server")
ASGI_APP = "webapp.asgi:application"
BACKLOG = 1024  # Twisted's default of 50 dropped handshakes in a burst
# daphne resets a WebSocket whose handshake the app has not accepted within 5 s by
# default; in a burst a late live view beats a reset one (the page would reconnect,
# adding load). The Dockerfile's CMD and the web Deployment's command say the same
# (tests/deploy pins both to these options).
HANDSHAKE_TIMEOUT = 30
DAPHNE_OPTIONS = ("--websocket_connect_timeout", str(HANDSHAKE_TIMEOUT))


def web_processes_wanted() -> int:
    from streams.envvars import env_int

    return env_int("WEB_PROCESSES", min(4, os.cpu_count() or 1), minimum=1)


def listening_socket(port: int, host: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    sock.set_inheritable(True)
    return sock


def start_web(
    group: ProcessGroup, port: int, count: int, env: dict[str, str] | None = None
) -> list[Child]:
    """`count` daphne processes on port, each on its own socket; returns them. Each
    child holds its socket; this process closes its copies."""
    children = []
    for n in range(1, count + 1):
        with listening_socket(port) as sock:
            fd = sock.fileno()
            argv = [*SERVER, "--fd", str(fd), *DAPHNE_OPTIONS, ASGI_APP]
            name = "web" if count == 1 else f"web-{n}"
            children.append(group.start(name, argv, env, pass_fds=(fd,)))
    return children
