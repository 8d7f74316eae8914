"""Several daphne processes on one listening socket (tools.web, behind `make run`)."""

import io
import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from tests.support.waiting import wait_until
from tools.ports import free_port
from tools.processes import ProcessGroup
from tools.web import start_web


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


def _try(url: str) -> bool:
    try:
        return _health(url) == "ok"
    except OSError:
        return False
