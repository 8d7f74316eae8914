"""A TCP proxy that can be cut: the soak's way to take the database away from one
process (the recorder) while every other process keeps using it.

A cut resets every open connection (RST, as a firewall rejecting the flow would) and
refuses new ones until the proxy is healed on the same port.
"""

import contextlib
import logging
import socket
import struct
import threading

from tools.ports import free_port

log = logging.getLogger(__name__)


class CuttableProxy:
    def __init__(self, target_port: int, host: str = "127.0.0.1"):
        self.host = host
        self.target_port = target_port
        self.port = free_port()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener: socket.socket | None = None

    def start(self) -> None:
        listener = socket.create_server((self.host, self.port))  # SO_REUSEADDR: heal rebinds
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Reset every connection and refuse new ones."""
        with self._lock:
            listener, self._listener = self._listener, None
            doomed, self._open = self._open, set()
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)  # wakes accept(); close() alone does not
            listener.close()
        for sock in doomed:
            _reset(sock)
        log.info("proxy :%d cut (%d connection(s) reset)", self.port, len(doomed) // 2)

    def heal(self) -> None:
        self.start()
        log.info("proxy :%d healed", self.port)

    def close(self) -> None:
        self.cut()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut: the listener was closed
            try:
                server = socket.create_connection((self.host, self.target_port), timeout=5)
            except OSError:
                _reset(client)
                continue
            server.settimeout(None)
            with self._lock:
                if self._listener is not listener:  # cut meanwhile
                    _reset(client)
                    _reset(server)
                    return
                self._open.update((client, server))
            for src, dst in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)
        with self._lock:
            self._open.discard(src)
        src.close()


def _reset(sock: socket.socket) -> None:
    """Close with a RST; shutting the read side first wakes a pump blocked in recv()."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RD)
    sock.close()
