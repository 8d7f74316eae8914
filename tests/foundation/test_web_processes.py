"""Several daphne processes on one port (tools.web, behind `make run`)."""

import http.client
import io
import json
import os
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tools.ports import free_port
from tools.processes import ProcessGroup
from tools.waiting import wait_until
from tools.web import PortTaken, start_web


def _health(url: str) -> str:
    with urllib.request.urlopen(f"{url}/healthz", timeout=10) as response:
        return json.loads(response.read())["status"]


def test_processes_share_the_port_and_each_serves():
    group, port = ProcessGroup(io.StringIO()), free_port()
    url = f"http://127.0.0.1:{port}"
    try:
        web = start_web(group, port, 2, {"DEBUG": "true"})
        assert [child.name for child in web] == ["web-1", "web-2"]
        wait_until(lambda: _try(url), timeout=60, what="the port to answer")
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(_health, [url] * 40))
        assert answers == ["ok"] * 40
        assert all(child.running for child in web)
        # Either process alone keeps the port served: the socket is theirs, not ours.
        group.stop("web-1")
        assert _health(url) == "ok"
    finally:
        group.stop_all(timeout=30)


def test_a_burst_of_kept_alive_connections_is_spread_over_the_processes():
    group, port = ProcessGroup(io.StringIO()), free_port()
    url = f"http://127.0.0.1:{port}"
    clients = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(40)]
    try:
        web = start_web(group, port, 2, {"DEBUG": "true"})
        wait_until(lambda: _try(url), timeout=60, what="the port to answer")
        for client in clients:
            client.connect()  # all waiting at once before any request
        with ThreadPoolExecutor(40) as pool:
            statuses = list(pool.map(_kept_alive_health, clients))
        assert statuses == [200] * 40
        held = [len(_connections_on(port, child.proc.pid)) for child in web]
        assert sum(held) == 40
        assert min(held) >= 8, f"connections per process: {held}"
    finally:
        for client in clients:
            client.close()
        group.stop_all(timeout=30)


def _kept_alive_health(client: http.client.HTTPConnection) -> int:
    client.request("GET", "/healthz")
    response = client.getresponse()
    response.read()
    return response.status


def _connections_on(port: int, pid: int) -> set[int]:
    """The socket inodes of the process's established TCP connections on the port."""
    established = set()
    with open("/proc/net/tcp") as table:
        for line in list(table)[1:]:
            fields = line.split()
            local_port, state, inode = int(fields[1].split(":")[1], 16), fields[3], fields[9]
            if local_port == port and state == "01":
                established.add(int(inode))
    owned = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            owned.add(int(target[8:-1]))
    return established & owned


def _try(url: str) -> bool:
    try:
        return _health(url) == "ok"
    except OSError:
        return False


def test_a_port_a_site_serves_already_is_refused():
    group, port = ProcessGroup(io.StringIO()), free_port()
    try:
        start_web(group, port, 1, {"DEBUG": "true"})
        # SO_REUSEPORT would let a second site in, splitting the connections.
        with pytest.raises(PortTaken, match=f"port {port} is taken"):
            start_web(group, port, 1, {"DEBUG": "true"})
        assert list(group.children) == ["web"]
    finally:
        group.stop_all(timeout=30)
