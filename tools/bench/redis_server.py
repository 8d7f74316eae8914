"""A throw-away redis-server (Debian's package) on a free loopback port, for the
Celery comparison: no persistence, its own temporary directory, stopped afterwards."""

import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager

import redis

from tools.ports import free_port


class RedisMissing(RuntimeError):
    pass


@contextmanager
def redis_server(timeout: float = 15.0):
    """Yield the URL of a fresh redis-server."""
    binary = shutil.which("redis-server")
    if not binary:
        raise RedisMissing("redis-server not found: apt-get install -y redis-server")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="clapstream-redis-") as scratch:
        proc = subprocess.Popen(
            [
                *[binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", scratch],
                *["--save", "", "--appendonly", "no", "--logfile", f"{scratch}/redis.log"],
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        url = f"redis://127.0.0.1:{port}/0"
        try:
            client = redis.Redis.from_url(url)
            deadline = time.monotonic() + timeout
            while True:
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RedisMissing(f"redis-server did not start on port {port}") from None
                    time.sleep(0.05)
            client.close()
            yield url
        finally:
            proc.terminate()
            proc.wait(30)
