import time
import urllib.error
import urllib.request

from tools.processes import Child


class NotReady(RuntimeError):
    pass


def wait_ready(url: str, server: Child, timeout: float) -> None:
    """Until the site's /readyz answers 200; fails early if its process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.running:
            raise NotReady(f"{server.name} exited before {url} was ready")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as resp:  # noqa: S310 - ours
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise NotReady(f"{url}/readyz did not answer 200 within {timeout:.0f} s")
