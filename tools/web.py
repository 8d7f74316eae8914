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


class PortTaken(RuntimeError):
    """Something listens on the port already."""


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
    refuse_taken(port)
    return [start_web_process(group, port, name, env) for name in web_names(count)]


def web_names(count: int) -> list[str]:
    return ["web"] if count == 1 else [f"web-{n}" for n in range(1, count + 1)]


def start_web_process(
    group: ProcessGroup, port: int, name: str, env: dict[str, str] | None = None
) -> Child:
    """One more daphne process on the port (also one that takes an exited one's place)."""
    with listening_socket(port) as sock:
        fd = sock.fileno()
        argv = [*SERVER, "--fd", str(fd), *DAPHNE_OPTIONS, ASGI_APP]
        return group.start(name, argv, env, pass_fds=(fd,))


def refuse_taken(port: int, host: str = "127.0.0.1") -> None:
    """SO_REUSEPORT would let a second site share a port that one already serves (a
    second `make run`, say), the kernel splitting the connections between the two."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # not SO_REUSEPORT
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise PortTaken(f"port {port} is taken ({exc.strerror}): another site on it?") from exc
